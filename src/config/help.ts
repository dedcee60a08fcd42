// The one help renderer: every command's --help lists its option table the same way.

import type { OptionSpec } from "./options.js";

export interface HelpText {
  usage: string;
  /** What the command does, one paragraph. */
  about: string;
  options: readonly OptionSpec[];
  /** Closing lines (exit codes), optional. */
  footer?: string;
}

function left(spec: OptionSpec): string {
  return spec.kind === "boolean" || spec.value === undefined
    ? `--${spec.flag}${spec.kind === "boolean" ? "[=true|false]" : " VALUE"}`
    : `--${spec.flag} ${spec.value}`;
}

function details(spec: OptionSpec): string {
  const parts = [
    spec.env === undefined ? undefined : `env ${spec.env}`,
    spec.default === "" ? undefined : `default ${spec.default}`,
    spec.kind === "repeated" ? "repeatable" : undefined,
  ].filter((part) => part !== undefined);
  return parts.join(", ");
}

/** Each option on a line with its help, and its variable and default on the next. */
export function renderHelp(help: HelpText): string {
  const width = Math.max(...help.options.map((spec) => left(spec).length)) + 2;
  const rows = help.options.map((spec) => {
    const more = details(spec);
    const first = `  ${left(spec).padEnd(width)}${spec.help}`;
    return more === "" ? first : `${first}\n  ${" ".repeat(width)}${more}`;
  });
  const footer = help.footer === undefined ? "" : `\n${help.footer}`;
  return `Usage: ${help.usage}\n\n${help.about}\n\n${rows.join("\n")}\n${footer}`;
}

export function mainHelp(): string {
  return `Usage: apolo-secrets-webhook <command> [options]

Commands:
  serve    run the admission webhook (HTTPS) and its metrics endpoint
  api      run the write-only secrets API users manage their secrets with
  mutate   explain offline what the webhook does with a pod

Run 'apolo-secrets-webhook <command> --help' for the options of each.
`;
}
