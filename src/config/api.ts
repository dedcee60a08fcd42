// `api`: the secrets API's settings, read from the option table and checked at start.

import type { Scope } from "../core/policy.js";
import { parseArgv } from "./argv.js";
import { ConfigError, isNamespace, scopeOf } from "./checks.js";
import { renderHelp } from "./help.js";
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
  /** Removed from authenticated user names to give the owner; "" keeps the name as it is. */
  usernamePrefix: string;
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
    usernamePrefix: o.text("username-prefix"),
    maxInflightBodyBytes: o.integer("max-inflight-body-bytes", 2 * 1024 * 1024, 1024 * 1024 * 1024),
    scope: scopeOf(o.named("scope"), o.text("scope")),
  };
  return { command: "api", config: Object.freeze(config) };
}
