// `serve`: the admission webhook's settings, read from the option table and checked at start.

import { isDnsSubdomain } from "../core/charset.js";
import type { IdentityRule } from "../core/identity.js";
import type { Scope } from "../core/policy.js";
import { parseArgv } from "./argv.js";
import { ConfigError, clusterNameOf, labelSelectorsOf, namespacesOf, scopeOf } from "./checks.js";
import { renderHelp } from "./help.js";
import { identityRuleOf } from "./identity.js";
import { type FlagOf, SERVE_OPTIONS } from "./options.js";
import { type Env, type Options, optionsOf } from "./reader.js";
import {
  type ServerSettings,
  type ServingCertificateSettings,
  serverSettingsOf,
  servingCertificateOf,
} from "./server.js";

export interface ServeConfig extends ServerSettings, ServingCertificateSettings {
  scope: Scope;
  clusterName: string | undefined;
  trustedUsers: readonly string[];
  trustedGroups: readonly string[];
  trustedControllers: readonly string[];
  /** Which owner a submitter's user name stands for (--username-prefix), as in `api`. */
  identity: IdentityRule;
  namespaces: readonly string[];
  /** One list+watch each; a Secret matching any of them is a store. Never empty. */
  secretLabelSelectors: readonly string[];
  lookupTimeoutMs: number;
  maxBodyBytes: number;
  maxInflightBodyBytes: number;
  /** Require client certificates issued by this CA bundle (file), optionally with these CNs. */
  clientCaFile: string | undefined;
  clientAllowedNames: readonly string[];
}

type ServeOptions = Options<FlagOf<typeof SERVE_OPTIONS>>;

export function serveHelp(): string {
  return renderHelp({
    usage: "apolo-secrets-webhook serve [options]",
    about: "Runs the admission webhook over HTTPS.",
    options: SERVE_OPTIONS,
  });
}

/** Who may submit for whom, and which stores exist: the admission policy and the store cache. */
function admissionOf(o: ServeOptions) {
  return {
    scope: scopeOf(o.named("scope"), o.text("scope")),
    clusterName: clusterNameOf(o.named("cluster-name"), o.text("cluster-name")),
    trustedUsers: o.list("trusted-users"),
    trustedGroups: o.list("trusted-groups"),
    trustedControllers: o.list("trusted-controllers"),
    identity: identityRuleOf(o.named("username-prefix"), o.text("username-prefix")),
    namespaces: namespacesOf(o.named("namespaces"), o.text("namespaces")),
    secretLabelSelectors: labelSelectorsOf(o.named("secret-label-selector"), o.text("secret-label-selector")),
    lookupTimeoutMs: o.integer("lookup-timeout-ms", 10, 30_000),
  };
}

/** Request bodies: the largest review, and the bytes held at once (which must fit the largest). */
function bodiesOf(o: ServeOptions) {
  const maxBodyBytes = o.integer("max-body-bytes", 1024, 64 * 1024 * 1024);
  const maxInflightBodyBytes = o.integer("max-inflight-body-bytes", 1024, 1024 * 1024 * 1024);
  if (maxInflightBodyBytes < maxBodyBytes) {
    throw new ConfigError(
      `${o.named("max-inflight-body-bytes")} (${maxInflightBodyBytes}) must be at least ${o.named("max-body-bytes")} (${maxBodyBytes}), or the largest review could never be read`,
    );
  }
  return { maxBodyBytes, maxInflightBodyBytes };
}

function clientAuthOf(o: ServeOptions) {
  const clientCaFile = o.text("client-ca-file").trim();
  const clientAllowedNames = o.list("client-allowed-names");
  if (clientAllowedNames.length > 0 && clientCaFile === "") {
    throw new ConfigError(
      `${o.named("client-allowed-names")} needs ${o.named("client-ca-file")}: names are checked on client certificates that CA issued`,
    );
  }
  return { clientCaFile: clientCaFile || undefined, clientAllowedNames };
}

function webhookConfigurationNameOf(o: ServeOptions): string {
  const name = o.text("webhook-configuration-name");
  if (name !== "" && !(name.length <= 253 && isDnsSubdomain(name)))
    throw new ConfigError(`${o.named("webhook-configuration-name")} '${name}' is not a valid object name`);
  return name;
}

/** The settings of `serve`, or its help; throws ConfigError naming the first bad option. */
export function parseServe(
  args: readonly string[],
  env: Env,
): { command: "serve"; config: Readonly<ServeConfig> } | { command: "help"; text: string } {
  const parsed = parseArgv(args, SERVE_OPTIONS);
  if (parsed.help) return { command: "help", text: serveHelp() };
  const o = optionsOf(SERVE_OPTIONS, parsed, env);
  const config: ServeConfig = {
    ...serverSettingsOf(o, env),
    ...servingCertificateOf(o, webhookConfigurationNameOf(o)),
    ...admissionOf(o),
    ...bodiesOf(o),
    ...clientAuthOf(o),
  };
  // The API server reuses idle connections for up to 90 s: closing first races its next request.
  if (config.keepAliveTimeoutMs <= 90_000) {
    throw new ConfigError(
      `${o.named("keep-alive-timeout-ms")} must exceed 90000: the API server reuses idle connections for up to 90 s`,
    );
  }
  return { command: "serve", config: Object.freeze(config) };
}
