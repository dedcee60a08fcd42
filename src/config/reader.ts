// Reads one command's options: the flag, else the environment variable, else the default; each
// typed read names the option (flag and variable) in its error. `F` is the table's flag union.

import type { ParsedArgs } from "./argv.js";
import { bool, duration, integer, list } from "./checks.js";
import type { FlagOf, OptionSpec } from "./options.js";

export type Env = Readonly<Record<string, string | undefined>>;

export interface Options<F extends string> {
  /** The text of the option, from the flag, the environment or the default. */
  readonly text: (flag: F) => string;
  /** The flag's or the variable's text; undefined when neither is given (not even empty). */
  readonly given: (flag: F) => string | undefined;
  /** A comma-separated option as a list; a repeated flag gives its values as they are. */
  readonly list: (flag: F) => string[];
  readonly integer: (flag: F, min: number, max: number) => number;
  readonly duration: (flag: F) => number;
  readonly bool: (flag: F) => boolean;
  /** "--flag (VARIABLE)", for messages. */
  readonly named: (flag: F) => string;
}

export function optionsOf<const T extends readonly OptionSpec[]>(
  specs: T,
  args: ParsedArgs,
  env: Env,
): Options<FlagOf<T>> {
  const byFlag = new Map<string, OptionSpec>(specs.map((spec) => [spec.flag, spec]));
  const spec = (flag: string): OptionSpec => {
    const found = byFlag.get(flag);
    if (found === undefined) throw new Error(`no option --${flag} in this command's table`);
    return found;
  };
  const fromEnv = (flag: string) => {
    const name = spec(flag).env;
    return name === undefined ? undefined : env[name];
  };
  const given = (flag: string) => args.values.get(flag)?.at(-1) ?? fromEnv(flag);
  const text = (flag: string) => given(flag) ?? spec(flag).default;
  const named = (flag: string) => {
    const name = spec(flag).env;
    return name === undefined ? `--${flag}` : `--${flag} (${name})`;
  };
  return {
    text,
    given,
    list: (flag) =>
      spec(flag).kind === "repeated" && args.values.has(flag)
        ? [...(args.values.get(flag) ?? [])]
        : list(text(flag)),
    integer: (flag, min, max) => integer(named(flag), text(flag), min, max),
    duration: (flag) => duration(named(flag), text(flag)),
    bool: (flag) => bool(named(flag), text(flag)),
    named,
  };
}
