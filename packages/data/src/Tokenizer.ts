/**
 * The tokenizer the rest of the framework sees (`Tokenizer`: sync encode/decode, vocabulary
 * size, special-token ids) and its implementation over HF `tokenizers` (`WordPieceTokenizer`):
 * the native normalizer and pre-tokenizer, a WordPiece vocabulary, the native encoder for bulk
 * tokenization, and the native WordPiece decoder.
 */
import type { Decoder, Normalizer, PreTokenizer, Tokenizer as NativeTokenizer } from "tokenizers"
import type { Native } from "./NativeTokenizers.ts"
import { cachedEncoder, type WordPieceModel } from "./WordPiece.ts"

/** Ids of the special tokens every tokenizer here has. */
export interface Specials {
  readonly pad: number
  readonly unk: number
  readonly cls: number
  readonly sep: number
  readonly mask: number
}

/** Text to token ids and back. */
export interface Tokenizer {
  /** Number of ids (max id + 1); embeddings need this many rows. */
  readonly vocabSize: number
  readonly specials: Specials
  /** Token ids of a text (no [CLS]/[SEP] added). */
  encode(text: string): Int32Array
  /** Text of token ids (special tokens included as written, e.g. `[MASK]`). */
  decode(ids: ArrayLike<number>): string
}

/** The special tokens, in the id order a trained vocabulary gets them: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4. */
export const specialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const

/** What a WordPiece tokenizer is made of (from training, a `tokenizer.json`, or a `vocab.txt`). */
export interface Parts {
  /** Token -> id. */
  readonly vocab: Readonly<Record<string, number>>
  readonly unkToken: string
  readonly prefix: string
  readonly maxInputCharsPerWord: number
  readonly normalizer: Normalizer | null
  readonly preTokenizer: PreTokenizer | null
  readonly decoder: Decoder
}

/** A WordPiece tokenizer backed by the `tokenizers` binding; `fingerprint` identifies its behaviour. */
export class WordPieceTokenizer implements Tokenizer {
  readonly vocabSize: number
  readonly specials: Specials
  /** The native tokenizer (no added tokens, no post-processor): used for bulk encoding and saving. */
  readonly native: NativeTokenizer
  private readonly idToToken: ReadonlyArray<string | undefined>
  private readonly encodeWord: (word: string) => ReadonlyArray<number>

  constructor(binding: Native, readonly parts: Parts, specials: Specials, readonly fingerprint: string) {
    const entries = Object.entries(parts.vocab)
    let max = -1
    for (const [, id] of entries) if (id > max) max = id
    const idToToken = new Array<string | undefined>(max + 1)
    for (const [token, id] of entries) idToToken[id] = token
    this.vocabSize = max + 1
    this.idToToken = idToToken
    this.specials = specials
    const model: WordPieceModel = {
      vocab: new Map(entries),
      unkId: specials.unk,
      prefix: parts.prefix,
      maxInputCharsPerWord: parts.maxInputCharsPerWord
    }
    this.encodeWord = cachedEncoder(model)
    const native = new binding.Tokenizer(binding.WordPiece.init({ ...parts.vocab }, {
      unkToken: parts.unkToken,
      continuingSubwordPrefix: parts.prefix,
      maxInputCharsPerWord: parts.maxInputCharsPerWord
    }))
    if (parts.normalizer !== null) native.setNormalizer(parts.normalizer)
    if (parts.preTokenizer !== null) native.setPreTokenizer(parts.preTokenizer)
    native.setDecoder(parts.decoder)
    this.native = native
  }

  /** Pre-tokenized words of a text (normalized first), as the native pipeline sees them. */
  words(text: string): Array<string> {
    const normalized = this.parts.normalizer === null ? text : this.parts.normalizer.normalizeString(text)
    if (this.parts.preTokenizer === null) return normalized.length > 0 ? [normalized] : []
    return this.parts.preTokenizer.preTokenizeString(normalized).map(([w]) => w)
  }

  encode(text: string): Int32Array {
    const ids: Array<number> = []
    for (const w of this.words(text)) for (const id of this.encodeWord(w)) ids.push(id)
    return Int32Array.from(ids)
  }

  decode(ids: ArrayLike<number>): string {
    const tokens: Array<string> = []
    for (let i = 0; i < ids.length; i++) tokens.push(this.idToToken[ids[i]!] ?? this.parts.unkToken)
    return this.parts.decoder.decode(tokens)
  }

  /** Token ids of many texts with the native (multi-threaded) encoder. */
  async encodeMany(texts: ReadonlyArray<string>): Promise<Array<Int32Array>> {
    const out: Array<Int32Array> = []
    const chunk = 512
    for (let i = 0; i < texts.length; i += chunk) {
      const encodings = await this.native.encodeBatch(texts.slice(i, i + chunk), { addSpecialTokens: false })
      for (const e of encodings) out.push(Int32Array.from(e.getIds()))
    }
    return out
  }
}
