// `apolo-secret`: the user's command for the secrets API. Its options have their own variables
// (APOLO_SECRETS_*), for users rather than the server's operators.

import { parseArgv } from "./argv.js";
import { ConfigError } from "./checks.js";
import { renderHelp } from "./help.js";
import type { OptionSpec } from "./options.js";
import { type Env, optionsOf } from "./reader.js";

export interface SecretCliConfig {
  action: "add" | "ls" | "rm" | "help";
  key: string | undefined;
  /** A literal value, or a file path when written @path. */
  value: { literal: string } | { file: string } | undefined;
  server: string | undefined;
  token: string | undefined;
  caFile: string | undefined;
  kubeconfig: string | undefined;
  /** The org and project the secrets belong to (org_name, project_name); undefined: none named. */
  org: string | undefined;
  project: string | undefined;
}

export const SECRET_CLI_OPTIONS = [
  {
    flag: "server",
    env: "APOLO_SECRETS_SERVER",
    default: "",
    value: "URL",
    help: "the secrets API, e.g. https://secrets.example.com",
  },
  {
    flag: "token",
    env: "APOLO_SECRETS_TOKEN",
    default: "",
    value: "TOKEN",
    help: "your bearer token; default: the current kubeconfig user's token",
  },
  {
    flag: "ca-file",
    env: "APOLO_SECRETS_CA_FILE",
    default: "",
    value: "FILE",
    help: "CA certificate to trust for the server",
  },
  {
    flag: "kubeconfig",
    env: "KUBECONFIG",
    default: "",
    value: "FILE",
    help: "kubeconfig to take the token from (of a KUBECONFIG list, the first file; else ~/.kube/config)",
  },
  {
    flag: "org",
    env: "APOLO_SECRETS_ORG",
    default: "",
    value: "ORG",
    help: "the org the secrets belong to (sent as org_name); needed with --project when the API keeps project secrets",
  },
  {
    flag: "project",
    env: "APOLO_SECRETS_PROJECT",
    default: "",
    value: "PROJECT",
    help: "the project whose secrets to manage (sent as project_name); a per-user API keeps your own store whatever it says",
  },
] as const satisfies readonly OptionSpec[];

export function secretCliHelp(): string {
  return renderHelp({
    usage: "apolo-secret <command> [options]",
    about: `Manage your secrets. Values can be added and removed, never read back.

  apolo-secret add KEY VALUE        add or overwrite secret KEY with VALUE
  apolo-secret add KEY @path/file   ... with the contents of a file (any bytes)
  apolo-secret ls                   list your secrets' names
  apolo-secret rm KEY               remove secret KEY
  apolo-secret --org ORG --project PROJECT ls   ... a project's secrets (project scope)
  (write -- before a VALUE that starts with '-')`,
    options: SECRET_CLI_OPTIONS,
    footer: `Exit codes: 0 done; 1 refused by the server (the message says why); 2 bad usage; 3 cannot reach
the server or no credentials.
`,
  });
}

type Action = Pick<SecretCliConfig, "action" | "key" | "value">;

/** The action and its arguments: `add KEY VALUE|@FILE`, `ls`, `rm KEY`. */
function actionOf(positionals: readonly string[]): Action {
  const [action, key, value, ...extra] = positionals;
  if (action === undefined || action === "help") return { action: "help", key: undefined, value: undefined };
  if (extra.length > 0) throw new ConfigError(`too many arguments: ${extra.join(" ")}`);
  switch (action) {
    case "add":
      if (key === undefined || value === undefined)
        throw new ConfigError("usage: apolo-secret add KEY VALUE  (or add KEY @path/to/file)");
      return { action, key, value: value.startsWith("@") ? { file: value.slice(1) } : { literal: value } };
    case "rm":
      if (key === undefined || value !== undefined) throw new ConfigError("usage: apolo-secret rm KEY");
      return { action, key, value: undefined };
    case "ls":
      if (key !== undefined) throw new ConfigError("usage: apolo-secret ls");
      return { action, key: undefined, value: undefined };
    default:
      throw new ConfigError(`unknown command '${action}'; the commands are add, ls and rm (see --help)`);
  }
}

export function parseSecretCommand(argv: readonly string[], env: Env): SecretCliConfig {
  const parsed = parseArgv(argv, SECRET_CLI_OPTIONS, { positionals: true });
  const o = optionsOf(SECRET_CLI_OPTIONS, parsed, env);
  const action: Action = parsed.help
    ? { action: "help", key: undefined, value: undefined }
    : actionOf(parsed.positionals);
  return {
    ...action,
    server: o.given("server"),
    token: o.given("token"),
    caFile: o.given("ca-file"),
    // Empty names none, as absent does.
    org: o.given("org") || undefined,
    project: o.given("project") || undefined,
    // KUBECONFIG may list several files, like kubectl's; the token is taken from the first.
    kubeconfig:
      (parsed.values.has("kubeconfig") ? o.given("kubeconfig") : env.KUBECONFIG?.split(":")[0]) || undefined,
  };
}
