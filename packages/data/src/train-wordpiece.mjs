// Child process of TokenizerTraining.ts: trains a WordPiece vocabulary with HF `tokenizers` on one
// text file and writes the learned vocabulary (token -> id) as JSON. It runs in its own process
// because the native trainer writes progress output (blank lines when not on a terminal) straight
// to the process's stdout, which a parent could not otherwise keep clean.
// Usage: node train-wordpiece.mjs <corpus.txt> <out.json> <normalizer options as JSON>
import { createRequire } from "node:module"
import { writeFileSync } from "node:fs"

const [corpus, out, normalizer] = process.argv.slice(2)
const t = createRequire(import.meta.url)("tokenizers")
const trainer = new t.Tokenizer(t.WordPiece.empty())
trainer.setNormalizer(t.bertNormalizer(JSON.parse(normalizer)))
trainer.setPreTokenizer(t.bertPreTokenizer())
trainer.train([corpus])
writeFileSync(out, JSON.stringify(trainer.getVocab()))
