/**
 * Tokenizers from files: a HF `tokenizer.json` with a WordPiece model (its own normalizer,
 * pre-tokenizer and decoder are used), or a `vocab.txt` (one token a line, id = line number,
 * BERT normalization). Both must contain [PAD], [UNK], [CLS], [SEP] and [MASK].
 */
import { createHash } from "node:crypto"
import { UserError } from "@rekindle/core"
import { Effect } from "effect"
import { FileSystem } from "effect/FileSystem"
import { Path } from "effect/Path"
import { type Native, native } from "./NativeTokenizers.ts"
import { type Parts, type Specials, specialTokens, WordPieceTokenizer } from "./Tokenizer.ts"

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

/** Looks up the special-token ids; `field` names the config field blamed when one is missing. */
const findSpecials = (vocab: Readonly<Record<string, number>>, unkToken: string, field: string, source: string) => {
  const missing = specialTokens.filter((t) => !Object.hasOwn(vocab, t))
  if (missing.length > 0) {
    return Effect.fail(new UserError({ message: `${field}: ${source} lacks the special token(s) ${missing.join(", ")}` }))
  }
  const id = (t: string) => vocab[t]!
  const specials: Specials = { pad: id("[PAD]"), unk: id(unkToken), cls: id("[CLS]"), sep: id("[SEP]"), mask: id("[MASK]") }
  return Effect.succeed(specials)
}

/** A tokenizer from the text of a `tokenizer.json` (WordPiece model only). `field` is the config path blamed for problems. */
export const fromTokenizerJson = (
  text: string,
  source: string,
  field: string
): Effect.Effect<WordPieceTokenizer, UserError> =>
  Effect.gen(function*() {
    const binding = yield* native
    const bad = (message: string) => new UserError({ message: `${field}: ${source}: ${message}` })
    let json: { model?: Record<string, unknown> }
    try {
      json = JSON.parse(text) as typeof json
    } catch {
      return yield* bad("not valid JSON")
    }
    const model = json.model
    if (model === undefined || model["type"] !== "WordPiece" || typeof model["vocab"] !== "object") {
      return yield* bad(`expected a tokenizer.json with a WordPiece model, found ${String(model?.["type"] ?? "no model")}`)
    }
    const whole = yield* Effect.try({
      try: () => binding.Tokenizer.fromString(text),
      catch: (e) => bad(`the tokenizers library rejected it (${e instanceof Error ? e.message : String(e)})`)
    })
    const vocab = model["vocab"] as Record<string, number>
    const unkToken = typeof model["unk_token"] === "string" ? model["unk_token"] : "[UNK]"
    const parts: Parts = {
      vocab,
      unkToken,
      prefix: typeof model["continuing_subword_prefix"] === "string" ? model["continuing_subword_prefix"] : "##",
      maxInputCharsPerWord: typeof model["max_input_chars_per_word"] === "number" ? model["max_input_chars_per_word"] : 100,
      normalizer: whole.getNormalizer(),
      preTokenizer: whole.getPreTokenizer(),
      decoder: whole.getDecoder() ?? binding.wordPieceDecoder("##")
    }
    const specials = yield* findSpecials(vocab, unkToken, field, source)
    return new WordPieceTokenizer(binding, parts, specials, sha256(`tokenizer.json\0${text}`))
  })

/** The options of BERT's normalizer (also sent to the vocabulary-training child process). */
export const bertNormalizerOptions = (lowercase: boolean) => ({ cleanText: true, handleChineseChars: true, stripAccents: lowercase, lowercase })

/** BERT text handling: clean text, lowercase (and strip accents) when uncased, split on whitespace and punctuation. */
export const bertParts = (binding: Native, lowercase: boolean): Pick<Parts, "normalizer" | "preTokenizer" | "decoder"> => ({
  normalizer: binding.bertNormalizer(bertNormalizerOptions(lowercase)),
  preTokenizer: binding.bertPreTokenizer(),
  decoder: binding.wordPieceDecoder("##")
})

/** A tokenizer from the text of a `vocab.txt` (one token a line; id = line number). */
export const fromVocabTxt = (
  text: string,
  lowercase: boolean,
  source: string,
  field: string
): Effect.Effect<WordPieceTokenizer, UserError> =>
  Effect.gen(function*() {
    const binding = yield* native
    const vocab: Record<string, number> = {}
    const lines = text.split(/\r?\n/)
    if (lines.at(-1) === "") lines.pop()
    lines.forEach((token, id) => {
      if (!Object.hasOwn(vocab, token)) vocab[token] = id
    })
    const specials = yield* findSpecials(vocab, "[UNK]", field, source)
    const parts: Parts = { vocab, unkToken: "[UNK]", prefix: "##", maxInputCharsPerWord: 100, ...bertParts(binding, lowercase) }
    return new WordPieceTokenizer(binding, parts, specials, sha256(`vocab.txt\0${lowercase}\0${text}`))
  })

/** Loads `data.tokenizer.path`: a `.json` file as `tokenizer.json`, anything else as `vocab.txt`. */
export const fromFile = (
  file: string,
  lowercase: boolean
): Effect.Effect<WordPieceTokenizer, UserError, FileSystem | Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem
    const path = yield* Path
    const field = "data.tokenizer.path"
    const resolved = path.resolve(file)
    const text = yield* fs.readFileString(resolved).pipe(
      Effect.mapError((e) =>
        new UserError({
          message: e.reason._tag === "NotFound"
            ? `${field}: no such file: ${resolved}`
            : `${field}: cannot read ${resolved} (${e.message})`
        })
      )
    )
    return resolved.endsWith(".json")
      ? yield* fromTokenizerJson(text, resolved, field)
      : yield* fromVocabTxt(text, lowercase, resolved, field)
  })
