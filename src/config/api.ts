// `api`: the secrets API's settings, read from the option table and checked at start.

import type { IdentityRule } from "../core/identity.js";
import type { Scope } from "../core/policy.js";
import { parseArgv } from "./argv.js";
import { ConfigError, isNamespace, scopeOf } from "./checks.js";
import { renderHelp } from "./help.js";
import { identityRuleOf } from "./identity.js";
import { API_OPTIONS } from "./options.js";
import { type Env, optionsOf } from "./reader.js";
import {
  type ServerSettings,
  type ServingCertificateSettings,
  serverSettingsOf,
  servingCertificateOf,
} from "./server.js";

export interface ApiConfig extends ServerSettings, ServingCertificateSettings {
  /** Namespace of the stores the API writes. */
  namespace: string;
  /** Which owner an authenticated user name stands for (--username-prefix), as in `serve`. */
  identity: IdentityRule;
  /** Bytes of request bodies held at once; beyond it 429. */
  maxInflightBodyBytes: number;
  /** user: each caller's own store; project: the named project's store, as the cluster's RBAC allows. */
  scope: Scope;
}

export function apiHelp(): string {
  return renderHelp({
    usage: "apolo-secrets-webhook api [options]",
    about: "Runs the write-only secrets API over HTTPS.",
    options: API_OPTIONS,
  });
}

/** The settings of `api`, or its help; throws ConfigError naming the first bad option. */
export function parseApi(
  args: readonly string[],
  env: Env,
): { command: "api"; config: Readonly<ApiConfig> } | { command: "help"; text: string } {
  const parsed = parseArgv(args, API_OPTIONS);
  if (parsed.help) return { command: "help", text: apiHelp() };
  const o = optionsOf(API_OPTIONS, parsed, env);
  const namespace = o.text("namespace");
  if (!isNamespace(namespace)) {
    throw new ConfigError(
      `${o.named("namespace")} is required: the namespace whose store Secrets the API writes (got '${namespace}')`,
    );
  }
  const config: ApiConfig = {
    ...serverSettingsOf(o, env),
    ...servingCertificateOf(o, ""),
    namespace,
    identity: identityRuleOf(o.named("username-prefix"), usernamePrefixText(o.given("username-prefix"), env)),
    maxInflightBodyBytes: o.integer("max-inflight-body-bytes", 2 * 1024 * 1024, 1024 * 1024 * 1024),
    scope: scopeOf(o.named("scope"), o.text("scope")),
  };
  return { command: "api", config: Object.freeze(config) };
}

// Before the webhook shared the rule, only the API read it, from …_API_USERNAME_PREFIX: still
// honoured when neither the flag nor the shared variable is given.
const LEGACY_USERNAME_PREFIX_ENV = "APOLO_SECRETS_WEBHOOK_API_USERNAME_PREFIX";

function usernamePrefixText(given: string | undefined, env: Env): string {
  return given ?? env[LEGACY_USERNAME_PREFIX_ENV] ?? "";
}
