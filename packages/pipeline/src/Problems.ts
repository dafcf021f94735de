/**
 * Turns Schema decoding failures into `Problem`s (`path: message`), one per failing field, with
 * the offending value ("got ...") and, for unknown keys, the closest known key.
 */
import { UserError } from "@rekindle/core"
import type { Problem } from "@rekindle/core"
import { Result, Schema, SchemaAST, SchemaIssue } from "effect"
import { didYouMean } from "./Suggest.ts"

/** Parse options used for every user-facing decode: all errors, unknown keys rejected, values reported. */
export const parseOptions = { errors: "all", onExcessProperty: "error", reportInput: true } as const

/** Joins a path array into `a.b.0.c`. */
export const joinPath = (path: ReadonlyArray<PropertyKey>): string => path.map(String).join(".")

/** Prefixes a dotted path (`prefix` may be empty). */
export const subPath = (prefix: string, rest: string): string => (prefix === "" ? rest : rest === "" ? prefix : `${prefix}.${rest}`)

const standard = SchemaIssue.makeFormatterStandardSchemaV1()

const knownKeys = (ast: SchemaAST.AST): Array<string> =>
  SchemaAST.isObjects(ast) ? ast.propertySignatures.map((p) => String(p.name)) : []

const walk = (issue: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey>, noun: string, out: Array<Problem>): void => {
  switch (issue._tag) {
    case "Pointer":
      return walk(issue.issue, [...path, ...issue.path], noun, out)
    case "Encoding":
      return walk(issue.issue, path, noun, out)
    case "Composite":
      for (const i of issue.issues) walk(i, path, noun, out)
      return
    case "AnyOf":
      if (issue.issues.length > 0) {
        for (const i of issue.issues) walk(i, path, noun, out)
        return
      }
      break
    case "UnexpectedKey": {
      const key = String(path.at(-1) ?? "")
      const known = knownKeys(issue.ast)
      const hint = didYouMean(key, known)
      out.push({
        path: joinPath(path),
        message: `unknown ${noun}${hint !== "" ? hint : known.length > 0 ? `; expected one of: ${known.join(", ")}` : ""}`
      })
      return
    }
  }
  for (const i of standard(issue).issues) {
    out.push({ path: joinPath([...path, ...(i.path ?? []).map((p) => (typeof p === "object" ? p.key : p))]), message: i.message })
  }
}

/**
 * The problems of a failed decode, under `prefix` (a dotted path). `noun` names an unknown key
 * ("key" in the pipeline, "option" in a part's options).
 */
export const fromIssue = (issue: SchemaIssue.Issue, prefix = "", noun = "key"): Array<Problem> => {
  const out: Array<Problem> = []
  walk(issue, [], noun, out)
  return out.map((p) => ({ path: subPath(prefix, p.path), message: p.message }))
}

/** Decodes `input` with the user-facing options; failures become problems under `prefix`. */
export const decode = <S extends Schema.Top>(schema: S, input: unknown, prefix = "", noun = "key"):
  Result.Result<S["Type"], Array<Problem>> => {
  const r = Schema.decodeUnknownResult(schema as unknown as Schema.Codec<S["Type"], unknown>)(input, parseOptions)
  return Result.isFailure(r) ? Result.fail(fromIssue(r.failure.issue, prefix, noun)) : Result.succeed(r.success)
}

/** A UserError listing every problem (the message repeats them, one per line). */
export const userError = (headline: string, problems: ReadonlyArray<Problem>): UserError =>
  new UserError({
    message: `${headline}\n${problems.map((p) => `  ${p.path === "" ? "" : `${p.path}: `}${p.message}`).join("\n")}`,
    problems
  })
