// `mutate`: the offline command's settings. The policy options (scope, cluster name, trusted
// submitters) come from the same variables as `serve`, so an operator's environment explains
// what the running webhook would do.

import type { IdentityRule } from "../core/identity.js";
import type { Scope } from "../core/policy.js";
import { parseArgv } from "./argv.js";
import { ConfigError, clusterNameOf, scopeOf } from "./checks.js";
import { renderHelp } from "./help.js";
import { identityRuleOf } from "./identity.js";
import {
  CLUSTER_NAME_OPTION,
  ENV_PREFIX,
  type OptionSpec,
  SCOPE_OPTION,
  TRUSTED_CONTROLLERS_OPTION,
  USERNAME_PREFIX_OPTION,
} from "./options.js";
import { type Env, optionsOf } from "./reader.js";

export interface MutateConfig {
  podFile: string;
  secretsFile: string;
  namespace: string | undefined;
  user: string | undefined;
  groups: readonly string[];
  scope: Scope;
  clusterName: string | undefined;
  trustedUsers: readonly string[];
  trustedGroups: readonly string[];
  trustedControllers: readonly string[];
  identity: IdentityRule;
  printPatch: boolean;
}

export const MUTATE_OPTIONS = [
  { flag: "pod", default: "", value: "FILE", help: "a Pod in YAML or JSON; - reads stdin (required)" },
  {
    flag: "secrets",
    default: "",
    value: "FILE",
    help: "store Secrets in YAML or JSON (one object, several YAML documents, or a List); only names and key names are read (required)",
  },
  {
    flag: "namespace",
    default: "",
    value: "NS",
    help: "the pod's namespace: only stores in it are used, as the webhook does (default: the pod's metadata.namespace, else \"default\"; Secrets without a namespace count as in it)",
  },
  {
    flag: "user",
    default: "",
    value: "NAME",
    help: "the submitting user; without it the pod's owner is assumed to submit",
  },
  { flag: "group", default: "", value: "G", kind: "repeated", help: "a group of the submitting user" },
  SCOPE_OPTION,
  CLUSTER_NAME_OPTION,
  {
    flag: "trusted-user",
    env: `${ENV_PREFIX}TRUSTED_USERS`,
    default: "",
    value: "NAME",
    kind: "repeated",
    help: "a trusted submitter (the variable: a comma-separated list)",
  },
  {
    flag: "trusted-group",
    env: `${ENV_PREFIX}TRUSTED_GROUPS`,
    default: "",
    value: "G",
    kind: "repeated",
    help: "a trusted group (the variable: a comma-separated list)",
  },
  TRUSTED_CONTROLLERS_OPTION,
  USERNAME_PREFIX_OPTION,
  {
    flag: "patch",
    default: "false",
    kind: "boolean",
    help: "print the JSON Patch instead of the mutated pod",
  },
] as const satisfies readonly OptionSpec[];

export function mutateHelp(): string {
  return renderHelp({
    usage:
      "apolo-secrets-webhook mutate --pod FILE --secrets FILE [--namespace NS] [--user NAME [--group G]...] [--trusted-user NAME]... [--trusted-group G]... [options]",
    about: `Explains offline what the webhook would do with a pod: prints the mutated pod (or the refusal).
Only the store Secrets in the pod's namespace are used (--namespace, else the pod's
metadata.namespace, else "default"), as the webhook uses only the stores in a job's namespace.`,
    options: MUTATE_OPTIONS,
    footer:
      "Exit 0: allowed (mutated Pod as JSON on stdout); 1: refused (message on stderr); 2: bad input.\nThe webhook's warnings go to stderr as 'Warning: ...', as kubectl prints them.\n",
  });
}

/** The settings of `mutate`, or its help; throws ConfigError naming the first bad option. */
export function parseMutate(
  args: readonly string[],
  env: Env,
): { command: "mutate"; config: Readonly<MutateConfig> } | { command: "help"; text: string } {
  const parsed = parseArgv(args, MUTATE_OPTIONS);
  if (parsed.help) return { command: "help", text: mutateHelp() };
  const o = optionsOf(MUTATE_OPTIONS, parsed, env);
  const podFile = o.text("pod");
  const secretsFile = o.text("secrets");
  if (podFile === "") throw new ConfigError("--pod FILE is required (a Pod in YAML or JSON; - for stdin)");
  if (secretsFile === "")
    throw new ConfigError("--secrets FILE is required (the store Secrets, YAML or JSON)");
  const config: MutateConfig = {
    podFile,
    secretsFile,
    namespace: o.given("namespace"),
    user: o.given("user"),
    groups: o.list("group"),
    scope: scopeOf(o.named("scope"), o.text("scope")),
    clusterName: clusterNameOf(o.named("cluster-name"), o.text("cluster-name")),
    trustedUsers: o.list("trusted-user"),
    trustedGroups: o.list("trusted-group"),
    trustedControllers: o.list("trusted-controllers"),
    identity: identityRuleOf(o.named("username-prefix"), o.text("username-prefix")),
    printPatch: o.bool("patch"),
  };
  return { command: "mutate", config: Object.freeze(config) };
}
