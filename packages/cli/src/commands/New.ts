/**
 * `rekindle new <kind> <name> [--dir DIR] [--packs DIR]`: scaffolds a standalone plugin package
 * (see scaffold/Scaffold.ts) in a folder of the user's choosing and says what to do next.
 */
import { isUserError, UserError } from "@rekindle/core/Errors"
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { kinds } from "../scaffold/Kinds.ts"
import { scaffold } from "../scaffold/Scaffold.ts"

/** The `new` command. */
export const newPackage = Command.make(
  "new",
  {
    kind: Argument.String("kind").pipe(Argument.withDescription(`What to make: ${kinds.map((k) => `${k.name} (${k.summary})`).join("; ")}`)),
    name: Argument.String("name").pipe(Argument.withDescription("The part's id, or namespace/id (namespace lab by default)")),
    dir: Flag.String("dir").pipe(Flag.withDescription("Folder to create (must not exist or be empty; default ./<id>)"), Flag.optional),
    packs: Flag.String("packs").pipe(
      Flag.withDescription("Folder of packed rekindle packages (npm run pack in rekindle writes dist/packs): depend on those tarballs"),
      Flag.optional
    )
  },
  Effect.fn("new")(function*({ kind, name, dir, packs }) {
    const made = yield* Effect.try({
      try: () =>
        scaffold({
          kind,
          name,
          ...(Option.isSome(dir) ? { dir: dir.value } : {}),
          ...(Option.isSome(packs) ? { packs: packs.value } : {})
        }),
      catch: (e) => (isUserError(e) ? e : new UserError({ message: `rekindle new: ${e instanceof Error ? e.message : String(e)}` }))
    })
    yield* Console.log(
      [
        `created ${made.dir} (${made.names.namespace}/${made.names.id}):`,
        ...made.files.map((f) => `  ${f}`),
        ...(Option.isNone(packs)
          ? ["note: until rekindle is on the npm registry, make the package depend on packed tarballs instead:",
            "  (in a rekindle checkout) npm run pack, then rekindle new ... --packs <rekindle>/dist/packs"]
          : []),
        "next:",
        `  cd ${made.dir}`,
        "  npm install",
        "  npm test",
        "  npx rekindle run pipeline.ts"
      ].join("\n")
    )
  })
).pipe(Command.withDescription(`Scaffold a plugin package (${kinds.map((k) => k.name).join(", ")}) in its own folder`))
