// The command line of apolo-secrets-webhook: which command, and its checked settings.

import type { ApiConfig } from "./api.js";
import { parseApi } from "./api.js";
import { ConfigError } from "./checks.js";
import { mainHelp } from "./help.js";
import { type MutateConfig, parseMutate } from "./mutate.js";
import type { Env } from "./reader.js";
import { parseServe, type ServeConfig } from "./serve.js";

export type Command =
  | { command: "serve"; config: Readonly<ServeConfig> }
  | { command: "mutate"; config: Readonly<MutateConfig> }
  | { command: "api"; config: Readonly<ApiConfig> }
  | { command: "help"; text: string };

/** Parses the command line; throws ConfigError with a message fit for the terminal. */
export function parseCommand(argv: readonly string[], env: Env): Command {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return parseServe(rest, env);
    case "mutate":
      return parseMutate(rest, env);
    case "api":
      return parseApi(rest, env);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return { command: "help", text: mainHelp() };
    default:
      throw new ConfigError(
        `unknown command '${command}'; the commands are serve, api and mutate (see --help)`,
      );
  }
}
