// The command line against an option table: `--flag VALUE`, `--flag=VALUE`, a bare `--flag` for
// booleans (`--flag=false` too), repeated flags, `-h`/`--help`, and `--` before positionals that
// start with '-'. Anything else is refused with a message that says how to write it.

import { ConfigError } from "./checks.js";
import type { OptionSpec } from "./options.js";

export interface ParsedArgs {
  /** Values given per flag, in order (one for single-value flags: the last one wins). */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly positionals: readonly string[];
  readonly help: boolean;
}

interface Cursor {
  readonly args: readonly string[];
  index: number;
}

/** The value of the option at the cursor; moves the cursor past a separate value. */
function optionValue(spec: OptionSpec, inline: string | undefined, cursor: Cursor): string {
  if (inline !== undefined) return inline;
  if (spec.kind === "boolean") return "true";
  const next = cursor.args[cursor.index + 1];
  if (next === undefined || next.startsWith("--")) {
    throw new ConfigError(
      `--${spec.flag} needs a value: write --${spec.flag} ${spec.value ?? "VALUE"} or --${spec.flag}=${spec.value ?? "VALUE"}`,
    );
  }
  cursor.index++;
  return next;
}

export function parseArgv(
  args: readonly string[],
  specs: readonly OptionSpec[],
  options: { positionals: boolean } = { positionals: false },
): ParsedArgs {
  const byFlag = new Map(specs.map((spec) => [spec.flag, spec]));
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  let help = false;
  const cursor: Cursor = { args, index: 0 };
  for (; cursor.index < args.length; cursor.index++) {
    const arg = args[cursor.index] as string;
    if (arg === "--") {
      positionals.push(...args.slice(cursor.index + 1));
      break;
    }
    if (arg === "-h" || arg === "--help") help = true;
    else if (arg === "-" || !arg.startsWith("-")) positionals.push(arg);
    else {
      const equals = arg.indexOf("=");
      const flag = arg.slice(arg.startsWith("--") ? 2 : 1, equals === -1 ? undefined : equals);
      const spec = arg.startsWith("--") ? byFlag.get(flag) : undefined;
      if (spec === undefined)
        throw new ConfigError(`unknown option '${equals === -1 ? arg : arg.slice(0, equals)}' (see --help)`);
      const value = optionValue(spec, equals === -1 ? undefined : arg.slice(equals + 1), cursor);
      values.set(flag, spec.kind === "repeated" ? [...(values.get(flag) ?? []), value] : [value]);
    }
  }
  if (!options.positionals && positionals.length > 0) {
    throw new ConfigError(
      `unexpected argument '${positionals[0]}': options are written --name VALUE or --name=VALUE (see --help)`,
    );
  }
  return { values, positionals, help };
}
