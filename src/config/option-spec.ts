// What an option is: its flag, environment variable, default and help. The option table
// (options.ts) is made of these.

export const ENV_PREFIX = "APOLO_SECRETS_WEBHOOK_";

export interface OptionSpec {
  readonly flag: string;
  /** The environment variable read when the flag is absent; none: the flag only. */
  readonly env?: string;
  /** Text used when neither is given; "" means none. */
  readonly default: string;
  readonly help: string;
  /** boolean: `--flag` alone means true; repeated: every `--flag V` adds a value. Default: one value. */
  readonly kind?: "boolean" | "repeated";
  /** The value's name in the help, e.g. FILE. */
  readonly value?: string;
}

/** The flag names of a table, as a union of literals. */
export type FlagOf<T extends readonly OptionSpec[]> = T[number]["flag"];

export const env = (name: string) => `${ENV_PREFIX}${name}`;
