/** BERT-style / GPT-style transformer with first-class FF neurons: init, forward, loss, neuron views, magnitudes. */
export {}
