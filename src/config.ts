// The only reader of process.env and argv. Every setting has a flag and an environment variable
// (the flag wins); values are checked at start and the result is frozen.

import { parseArgs } from "node:util";
import { isDigits, isDnsLabel, isNamePart, splitDigits } from "./core/charset.js";
import type { Scope } from "./core/policy.js";
import type { LogLevel } from "./lifecycle/logger.js";

export const ENV_PREFIX = "APOLO_SECRETS_WEBHOOK_";

export class ConfigError extends Error {}

interface OptionSpec {
  flag: string;
  env: string;
  default: string;
  help: string;
}

/** Options of `serve`, in the order the README lists them. */
export const SERVE_OPTIONS = [
  { flag: "port", env: "PORT", default: "8443", help: "HTTPS port for POST /mutate, /healthz and /readyz" },
  {
    flag: "bind-address",
    env: "BIND_ADDRESS",
    default: "0.0.0.0",
    help: "address the HTTPS and metrics ports listen on",
  },
  {
    flag: "metrics-port",
    env: "METRICS_PORT",
    default: "9090",
    help: "plain-HTTP port for GET /metrics; 0 turns metrics off",
  },
  {
    flag: "tls-cert-file",
    env: "TLS_CERT_FILE",
    default: "",
    help: "PEM certificate (chain) to serve; reloaded when it changes (required)",
  },
  {
    flag: "tls-key-file",
    env: "TLS_KEY_FILE",
    default: "",
    help: "PEM private key of the certificate; reloaded with it (required)",
  },
  {
    flag: "tls-secret",
    env: "TLS_SECRET",
    default: "",
    help: "NAMESPACE/NAME of a Secret holding tls.crt and tls.key, read through the API instead of files",
  },
  {
    flag: "tls-reload-interval-ms",
    env: "TLS_RELOAD_INTERVAL_MS",
    default: "5000",
    help: "how often the certificate files (or the Secret) are re-read",
  },
  {
    flag: "manage-certificates",
    env: "MANAGE_CERTIFICATES",
    default: "false",
    help: "issue and rotate the CA and serving certificate in --tls-secret, and inject the CA bundle",
  },
  {
    flag: "webhook-configuration-name",
    env: "WEBHOOK_CONFIGURATION_NAME",
    default: "",
    help: "MutatingWebhookConfiguration whose caBundle the managed CA is injected into",
  },
  {
    flag: "certificate-dns-names",
    env: "CERTIFICATE_DNS_NAMES",
    default: "",
    help: "comma-separated DNS names of the managed serving certificate (the Service's names)",
  },
  {
    flag: "certificate-ip-addresses",
    env: "CERTIFICATE_IP_ADDRESSES",
    default: "",
    help: "comma-separated IP addresses of the managed serving certificate",
  },
  {
    flag: "ca-validity",
    env: "CA_VALIDITY",
    default: "8760h",
    help: "lifetime of a managed CA (units s, m, h, d)",
  },
  {
    flag: "ca-renew-before",
    env: "CA_RENEW_BEFORE",
    default: "2160h",
    help: "a new CA is staged when the current one has less than this left",
  },
  {
    flag: "certificate-validity",
    env: "CERTIFICATE_VALIDITY",
    default: "2160h",
    help: "lifetime of a managed serving certificate",
  },
  {
    flag: "certificate-renew-before",
    env: "CERTIFICATE_RENEW_BEFORE",
    default: "720h",
    help: "the serving certificate is reissued when it has less than this left",
  },
  {
    flag: "ca-overlap",
    env: "CA_OVERLAP",
    default: "10m",
    help: "a new CA is trusted for this long before it signs (the caBundle reaches the API server first)",
  },
  {
    flag: "certificate-check-interval",
    env: "CERTIFICATE_CHECK_INTERVAL",
    default: "1m",
    help: "how often each replica checks the managed certificates",
  },
  {
    flag: "client-ca-file",
    env: "CLIENT_CA_FILE",
    default: "",
    help: "PEM CA bundle of the API server's client certificate: when set, the HTTPS port (POST /mutate) requires a client certificate it issued (reloaded when it changes); probes use the metrics port",
  },
  {
    flag: "client-allowed-names",
    env: "CLIENT_ALLOWED_NAMES",
    default: "",
    help: "comma-separated subject CNs a client certificate must have (with --client-ca-file); empty accepts any certificate the CA issued",
  },
  {
    flag: "scope",
    env: "SCOPE",
    default: "user",
    help: "store model: user (user--{owner}--secrets) or project (project--{org}--{project}--secrets)",
  },
  {
    flag: "cluster-name",
    env: "CLUSTER_NAME",
    default: "",
    help: "cluster name that secret://CLUSTER/... references must carry; empty refuses full references",
  },
  {
    flag: "trusted-users",
    env: "TRUSTED_USERS",
    default: "",
    help: "comma-separated user names allowed to submit pods for any owner (the platform's service account)",
  },
  {
    flag: "trusted-groups",
    env: "TRUSTED_GROUPS",
    default: "",
    help: "comma-separated groups whose members may submit pods for any owner",
  },
  {
    flag: "namespaces",
    env: "NAMESPACES",
    default: "",
    help: "comma-separated namespaces whose store Secrets are cached; empty caches all namespaces",
  },
  {
    flag: "secret-label-selector",
    env: "SECRET_LABEL_SELECTOR",
    // The secrets API's label (STORE_LABELS) and the platform's own secrets service's label.
    default: "platform.apolo.us/secrets-store=true;platform.neuromation.io/secret-api-org-name",
    help: "label selectors of store Secrets, separated by ';' (a Secret matching any is a store); only these Secrets are listed, watched and looked up",
  },
  {
    flag: "lookup-timeout-ms",
    env: "LOOKUP_TIMEOUT_MS",
    default: "2000",
    help: "bound on the one live GET of a store after a cache miss",
  },
  {
    flag: "max-body-bytes",
    env: "MAX_BODY_BYTES",
    default: "7340032",
    help: "largest AdmissionReview accepted; larger bodies get 413",
  },
  {
    flag: "max-inflight-body-bytes",
    env: "MAX_INFLIGHT_BODY_BYTES",
    default: "16777216",
    help: "bytes of review bodies held at once over all connections (reserved from Content-Length); beyond it requests get 429",
  },
  {
    flag: "keep-alive-timeout-ms",
    env: "KEEP_ALIVE_TIMEOUT_MS",
    default: "120000",
    help: "idle keep-alive; must exceed the API server's 90 s idle connection reuse",
  },
  {
    flag: "shutdown-delay-ms",
    env: "SHUTDOWN_DELAY_MS",
    default: "5000",
    help: "after SIGTERM, keep answering while /readyz reports not ready, so endpoints drop this pod first",
  },
  {
    flag: "drain-timeout-ms",
    env: "DRAIN_TIMEOUT_MS",
    default: "20000",
    help: "after the delay, how long in-flight requests may take before connections are closed",
  },
  {
    flag: "kubeconfig",
    env: "KUBECONFIG",
    default: "",
    help: "kubeconfig file; empty uses the in-cluster service account (KUBECONFIG is read without the prefix)",
  },
  { flag: "log-level", env: "LOG_LEVEL", default: "info", help: "debug, info, warn or error" },
] as const satisfies readonly OptionSpec[];

const SHARED_WITH_API = new Set([
  "bind-address",
  "tls-cert-file",
  "tls-key-file",
  "tls-secret",
  "tls-reload-interval-ms",
  "manage-certificates",
  "certificate-dns-names",
  "certificate-ip-addresses",
  "ca-validity",
  "ca-renew-before",
  "certificate-validity",
  "certificate-renew-before",
  "ca-overlap",
  "certificate-check-interval",
  "keep-alive-timeout-ms",
  "shutdown-delay-ms",
  "drain-timeout-ms",
  "kubeconfig",
  "log-level",
]);

/** Options of `api`, the secrets API: its own ports, the store namespace, the identity rule, and the TLS options of `serve`. */
export const API_OPTIONS: readonly OptionSpec[] = [
  {
    flag: "port",
    env: "API_PORT",
    default: "8444",
    help: "HTTPS port of /api/v1/secrets, /healthz and /readyz",
  },
  {
    flag: "metrics-port",
    env: "API_METRICS_PORT",
    default: "9091",
    help: "plain-HTTP port for GET /metrics; 0 turns metrics off",
  },
  {
    flag: "namespace",
    env: "API_NAMESPACE",
    default: "",
    help: "namespace of the stores the API writes (required)",
  },
  {
    flag: "username-prefix",
    env: "API_USERNAME_PREFIX",
    default: "",
    help: "removed from authenticated user names to give the owner (e.g. system:serviceaccount:apolo-users:); callers without it are refused; empty: the user name is the owner",
  },
  ...SERVE_OPTIONS.filter((spec) => SHARED_WITH_API.has(spec.flag)),
];

export interface ApiConfig {
  port: number;
  metricsPort: number;
  bindAddress: string;
  namespace: string;
  usernamePrefix: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsReloadIntervalMs: number;
  tlsSecret: { namespace: string; name: string } | undefined;
  certificates: CertificateManagement | undefined;
  keepAliveTimeoutMs: number;
  shutdownDelayMs: number;
  drainTimeoutMs: number;
  kubeconfig: string | undefined;
  logLevel: LogLevel;
}

export function apiHelp(): string {
  const rows = API_OPTIONS.map(
    (spec) =>
      `  --${spec.flag.padEnd(26)} ${spec.help}\n  ${" ".repeat(28)} env ${envName(spec)}${spec.default ? `, default ${spec.default}` : ""}`,
  );
  return `Usage: apolo-secrets-webhook api [options]\n\nRuns the write-only secrets API over HTTPS.\n\n${rows.join("\n")}\n`;
}

function logLevelOf(name: string, text: string): LogLevel {
  if (!["debug", "info", "warn", "error"].includes(text))
    throw new ConfigError(`${name} must be debug, info, warn or error, got '${text}'`);
  return text as LogLevel;
}

function parseApi(args: string[], env: Env): Command {
  const values = parseOptions(args, API_OPTIONS);
  if (values.help) return { command: "help", text: apiHelp() };
  const { raw, named } = optionReader(API_OPTIONS, values, env);
  const namespace = raw("namespace");
  if (!isDnsLabel(namespace)) {
    throw new ConfigError(
      `${named("namespace")} is required: the namespace whose store Secrets the API writes (got '${namespace}')`,
    );
  }
  const tls = tlsSettings(raw, named, "");
  const keepAliveTimeoutMs = integer(
    named("keep-alive-timeout-ms"),
    raw("keep-alive-timeout-ms"),
    1_000,
    3_600_000,
  );
  const config: ApiConfig = {
    port: integer(named("port"), raw("port"), 0, 65535),
    metricsPort: integer(named("metrics-port"), raw("metrics-port"), 0, 65535),
    bindAddress: raw("bind-address"),
    namespace,
    usernamePrefix: raw("username-prefix"),
    ...tls,
    tlsReloadIntervalMs: integer(
      named("tls-reload-interval-ms"),
      raw("tls-reload-interval-ms"),
      100,
      3_600_000,
    ),
    keepAliveTimeoutMs,
    shutdownDelayMs: integer(named("shutdown-delay-ms"), raw("shutdown-delay-ms"), 0, 600_000),
    drainTimeoutMs: integer(named("drain-timeout-ms"), raw("drain-timeout-ms"), 0, 600_000),
    kubeconfig: raw("kubeconfig") || undefined,
    logLevel: logLevelOf(named("log-level"), raw("log-level")),
  };
  return { command: "api", config: Object.freeze(config) };
}

export interface ServeConfig {
  port: number;
  bindAddress: string;
  metricsPort: number;
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsReloadIntervalMs: number;
  /** Read the serving pair from this Secret instead of files. */
  tlsSecret: { namespace: string; name: string } | undefined;
  certificates: CertificateManagement | undefined;
  scope: Scope;
  clusterName: string | undefined;
  trustedUsers: readonly string[];
  trustedGroups: readonly string[];
  namespaces: readonly string[];
  /** One list+watch each; a Secret matching any of them is a store. Never empty. */
  secretLabelSelectors: readonly string[];
  lookupTimeoutMs: number;
  maxBodyBytes: number;
  keepAliveTimeoutMs: number;
  maxInflightBodyBytes: number;
  /** Require client certificates issued by this CA bundle (file), optionally with these CNs. */
  clientCaFile: string | undefined;
  clientAllowedNames: readonly string[];
  shutdownDelayMs: number;
  drainTimeoutMs: number;
  kubeconfig: string | undefined;
  logLevel: LogLevel;
}

/** The webhook's own CA and serving certificate, managed in --tls-secret. */
export interface CertificateManagement {
  webhookConfigurationName: string;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  caValidityMs: number;
  caRenewBeforeMs: number;
  certificateValidityMs: number;
  certificateRenewBeforeMs: number;
  caOverlapMs: number;
  checkIntervalMs: number;
}

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
  printPatch: boolean;
}

export type Command =
  | { command: "serve"; config: Readonly<ServeConfig> }
  | { command: "mutate"; config: Readonly<MutateConfig> }
  | { command: "api"; config: Readonly<ApiConfig> }
  | { command: "help"; text: string };

type Env = Readonly<Record<string, string | undefined>>;

function envName(spec: OptionSpec): string {
  return spec.env === "KUBECONFIG" ? "KUBECONFIG" : ENV_PREFIX + spec.env;
}

function integer(name: string, text: string, min: number, max: number): number {
  if (!isDigits(text.trim())) throw new ConfigError(`${name} must be a whole number, got '${text}'`);
  const value = Number(text);
  if (value < min || value > max)
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "10m", "2160h", "30d" → milliseconds. */
export function duration(name: string, text: string): number {
  const { digits, rest: unit } = splitDigits(text.trim());
  const unitMs = Object.hasOwn(DURATION_UNITS, unit) ? DURATION_UNITS[unit] : undefined;
  if (digits === "" || unitMs === undefined)
    throw new ConfigError(`${name} must be a duration like 90s, 10m, 720h or 30d, got '${text}'`);
  const value = Number(digits) * unitMs;
  if (value <= 0) throw new ConfigError(`${name} must be longer than zero`);
  return value;
}

function bool(name: string, text: string): boolean {
  if (text === "true" || text === "1") return true;
  if (text === "false" || text === "0" || text === "") return false;
  throw new ConfigError(`${name} must be true or false, got '${text}'`);
}

function list(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function scopeOf(name: string, text: string): Scope {
  if (text === "user" || text === "project") return text;
  throw new ConfigError(`${name} must be 'user' or 'project', got '${text}'`);
}

// What label selectors are made of (keys, values, =, ==, !=, !, in/notin lists, commas).
const SELECTOR_CHARS = new Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/=!(), -");

function isSelectorText(text: string): boolean {
  if (text.length === 0 || text.length > 1024) return false;
  for (const char of text) if (!SELECTOR_CHARS.has(char)) return false;
  return true;
}

/** "a=b;c" → ["a=b", "c"]; refuses an empty list: the cache must never ask for every Secret. */
function labelSelectorsOf(name: string, text: string): string[] {
  const selectors = text
    .split(";")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (selectors.length === 0) {
    throw new ConfigError(
      `${name} must name at least one label selector (separated by ';'), e.g. platform.apolo.us/secrets-store=true: the webhook reads only labelled store Secrets`,
    );
  }
  if (selectors.length > 30)
    throw new ConfigError(
      `${name}: at most 30 label selectors (each is a list and a watch), got ${selectors.length}`,
    );
  for (const selector of selectors) {
    if (!isSelectorText(selector))
      throw new ConfigError(
        `${name}: '${selector}' is not a label selector (keys, values, =, ==, !=, !, in (...), notin (...), commas)`,
      );
  }
  return selectors;
}

function clusterNameOf(name: string, text: string): string | undefined {
  if (text === "") return undefined;
  if (!isNamePart(text)) throw new ConfigError(`${name} '${text}' is not a valid cluster name`);
  return text;
}

export function serveHelp(): string {
  const rows = SERVE_OPTIONS.map(
    (spec) =>
      `  --${spec.flag.padEnd(24)} ${spec.help}\n  ${" ".repeat(26)} env ${envName(spec)}${spec.default ? `, default ${spec.default}` : ""}`,
  );
  return `Usage: apolo-secrets-webhook serve [options]\n\nRuns the admission webhook over HTTPS.\n\n${rows.join("\n")}\n`;
}

export function mutateHelp(): string {
  return `Usage: apolo-secrets-webhook mutate --pod FILE --secrets FILE [options]

Explains offline what the webhook would do with a pod: prints the mutated pod (or the refusal).
Exit 0: allowed (mutated Pod as JSON on stdout); 1: refused (message on stderr); 2: bad input.

  --pod FILE            a Pod in YAML or JSON; - reads stdin
  --secrets FILE        store Secrets in YAML or JSON (one object, several YAML documents, or a List);
                        only names and key names are read, values are never printed
  --namespace NS        the pod's namespace (default: the pod's metadata.namespace, else "default")
  --user NAME           the submitting user; without it the pod's owner is assumed to submit
  --group G             a group of the submitting user (repeatable)
  --scope user|project  the store model (env ${ENV_PREFIX}SCOPE, default user)
  --cluster-name C      the cluster's name for secret://C/... references (env ${ENV_PREFIX}CLUSTER_NAME)
  --trusted-user NAME   a trusted submitter (repeatable; env ${ENV_PREFIX}TRUSTED_USERS)
  --trusted-group G     a trusted group (repeatable; env ${ENV_PREFIX}TRUSTED_GROUPS)
  --patch               print the JSON Patch instead of the mutated pod
`;
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

type Raw = (flag: string) => string;

/** Reads options from parsed flags, then the environment, then defaults; names them for errors. */
function optionReader(
  specs: readonly OptionSpec[],
  values: Record<string, string | boolean | undefined>,
  env: Env,
) {
  const spec = (flag: string) => specs.find((s) => s.flag === flag) as OptionSpec;
  const raw: Raw = (flag) => {
    const fromFlag = values[flag];
    if (typeof fromFlag === "string") return fromFlag;
    return env[envName(spec(flag))] ?? spec(flag).default;
  };
  const named = (flag: string) => `--${flag} (${envName(spec(flag))})`;
  return { raw, named };
}

function parseOptions(args: string[], specs: readonly OptionSpec[]) {
  return parseArgs({
    args,
    options: {
      ...Object.fromEntries(specs.map((spec) => [spec.flag, { type: "string" as const }])),
      help: { type: "boolean" as const, short: "h" },
    },
    strict: true,
    allowPositionals: false,
  }).values as Record<string, string | boolean | undefined>;
}

/** The serving certificate settings both servers share. */
function tlsSettings(raw: Raw, named: (flag: string) => string, webhookConfigurationName: string) {
  const tlsCertFile = raw("tls-cert-file");
  const tlsKeyFile = raw("tls-key-file");
  const tlsSecretText = raw("tls-secret");
  let tlsSecret: ServeConfig["tlsSecret"];
  if (tlsSecretText !== "") {
    const [namespace, name, ...rest] = tlsSecretText.split("/");
    if (!namespace || !name || rest.length > 0 || !isDnsLabel(namespace)) {
      throw new ConfigError(`${named("tls-secret")} must be NAMESPACE/NAME, got '${tlsSecretText}'`);
    }
    if (tlsCertFile !== "" || tlsKeyFile !== "") {
      throw new ConfigError(`set either ${named("tls-secret")} or the certificate files, not both`);
    }
    tlsSecret = { namespace, name };
  } else if (tlsCertFile === "" || tlsKeyFile === "") {
    throw new ConfigError(
      `${named("tls-cert-file")} and ${named("tls-key-file")} (or ${named("tls-secret")}) are required: the API server only calls webhooks over HTTPS`,
    );
  }
  let certificates: CertificateManagement | undefined;
  if (bool(named("manage-certificates"), raw("manage-certificates"))) {
    if (!tlsSecret) {
      throw new ConfigError(
        `${named("manage-certificates")} needs ${named("tls-secret")}: the Secret it keeps the certificates in`,
      );
    }
    const dnsNames = list(raw("certificate-dns-names"));
    const ipAddresses = list(raw("certificate-ip-addresses"));
    if (dnsNames.length + ipAddresses.length === 0) {
      throw new ConfigError(
        `${named("manage-certificates")} needs ${named("certificate-dns-names")} or ${named("certificate-ip-addresses")}: the names the API server calls`,
      );
    }
    certificates = {
      webhookConfigurationName,
      dnsNames,
      ipAddresses,
      caValidityMs: duration(named("ca-validity"), raw("ca-validity")),
      caRenewBeforeMs: duration(named("ca-renew-before"), raw("ca-renew-before")),
      certificateValidityMs: duration(named("certificate-validity"), raw("certificate-validity")),
      certificateRenewBeforeMs: duration(named("certificate-renew-before"), raw("certificate-renew-before")),
      caOverlapMs: duration(named("ca-overlap"), raw("ca-overlap")),
      checkIntervalMs: duration(named("certificate-check-interval"), raw("certificate-check-interval")),
    };
    if (
      certificates.caRenewBeforeMs >= certificates.caValidityMs ||
      certificates.certificateRenewBeforeMs >= certificates.certificateValidityMs
    ) {
      throw new ConfigError(
        "each renew-before must be shorter than its validity, or certificates would be renewed forever",
      );
    }
    if (certificates.caOverlapMs >= certificates.caRenewBeforeMs) {
      throw new ConfigError(
        `${named("ca-overlap")} must be shorter than ${named("ca-renew-before")}: a staged CA must sign before the old one expires`,
      );
    }
  }
  return { tlsCertFile, tlsKeyFile, tlsSecret, certificates };
}

function parseServe(args: string[], env: Env): Command {
  const values = parseOptions(args, SERVE_OPTIONS);
  if (values.help) return { command: "help", text: serveHelp() };
  const { raw, named } = optionReader(SERVE_OPTIONS, values, env);
  const { tlsCertFile, tlsKeyFile, tlsSecret, certificates } = tlsSettings(
    raw,
    named,
    raw("webhook-configuration-name"),
  );
  const logLevel = raw("log-level");
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    throw new ConfigError(`${named("log-level")} must be debug, info, warn or error, got '${logLevel}'`);
  }
  const keepAliveTimeoutMs = integer(
    named("keep-alive-timeout-ms"),
    raw("keep-alive-timeout-ms"),
    1_000,
    3_600_000,
  );
  if (keepAliveTimeoutMs <= 90_000) {
    throw new ConfigError(
      `${named("keep-alive-timeout-ms")} must exceed 90000: the API server reuses idle connections for up to 90 s`,
    );
  }
  const clientCaFile = raw("client-ca-file").trim();
  const clientAllowedNames = list(raw("client-allowed-names"));
  if (clientAllowedNames.length > 0 && clientCaFile === "") {
    throw new ConfigError(
      `${named("client-allowed-names")} needs ${named("client-ca-file")}: names are checked on client certificates that CA issued`,
    );
  }
  const maxBodyBytes = integer(named("max-body-bytes"), raw("max-body-bytes"), 1024, 64 * 1024 * 1024);
  const maxInflightBodyBytes = integer(
    named("max-inflight-body-bytes"),
    raw("max-inflight-body-bytes"),
    1024,
    1024 * 1024 * 1024,
  );
  if (maxInflightBodyBytes < maxBodyBytes) {
    throw new ConfigError(
      `${named("max-inflight-body-bytes")} (${maxInflightBodyBytes}) must be at least ${named("max-body-bytes")} (${maxBodyBytes}), or the largest review could never be read`,
    );
  }
  const namespaces = list(raw("namespaces"));
  for (const namespace of namespaces) {
    if (!isDnsLabel(namespace))
      throw new ConfigError(`${named("namespaces")}: '${namespace}' is not a valid namespace name`);
  }
  const config: ServeConfig = {
    port: integer(named("port"), raw("port"), 0, 65535),
    bindAddress: raw("bind-address"),
    metricsPort: integer(named("metrics-port"), raw("metrics-port"), 0, 65535),
    tlsCertFile,
    tlsKeyFile,
    tlsReloadIntervalMs: integer(
      named("tls-reload-interval-ms"),
      raw("tls-reload-interval-ms"),
      100,
      3_600_000,
    ),
    tlsSecret,
    certificates,
    scope: scopeOf(named("scope"), raw("scope")),
    clusterName: clusterNameOf(named("cluster-name"), raw("cluster-name")),
    trustedUsers: list(raw("trusted-users")),
    trustedGroups: list(raw("trusted-groups")),
    namespaces,
    secretLabelSelectors: labelSelectorsOf(named("secret-label-selector"), raw("secret-label-selector")),
    lookupTimeoutMs: integer(named("lookup-timeout-ms"), raw("lookup-timeout-ms"), 10, 30_000),
    maxBodyBytes,
    keepAliveTimeoutMs,
    maxInflightBodyBytes,
    clientCaFile: clientCaFile || undefined,
    clientAllowedNames,
    shutdownDelayMs: integer(named("shutdown-delay-ms"), raw("shutdown-delay-ms"), 0, 600_000),
    drainTimeoutMs: integer(named("drain-timeout-ms"), raw("drain-timeout-ms"), 0, 600_000),
    kubeconfig: raw("kubeconfig") || undefined,
    logLevel: logLevel as LogLevel,
  };
  return { command: "serve", config: Object.freeze(config) };
}

function parseMutate(args: string[], env: Env): Command {
  const { values } = parseArgs({
    args,
    options: {
      pod: { type: "string" },
      secrets: { type: "string" },
      namespace: { type: "string" },
      user: { type: "string" },
      group: { type: "string", multiple: true },
      scope: { type: "string" },
      "cluster-name": { type: "string" },
      "trusted-user": { type: "string", multiple: true },
      "trusted-group": { type: "string", multiple: true },
      patch: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return { command: "help", text: mutateHelp() };
  if (!values.pod) throw new ConfigError("--pod FILE is required (a Pod in YAML or JSON; - for stdin)");
  if (!values.secrets) throw new ConfigError("--secrets FILE is required (the store Secrets, YAML or JSON)");
  const config: MutateConfig = {
    podFile: values.pod,
    secretsFile: values.secrets,
    namespace: values.namespace,
    user: values.user,
    groups: values.group ?? [],
    scope: scopeOf("--scope", values.scope ?? env[`${ENV_PREFIX}SCOPE`] ?? "user"),
    clusterName: clusterNameOf(
      "--cluster-name",
      values["cluster-name"] ?? env[`${ENV_PREFIX}CLUSTER_NAME`] ?? "",
    ),
    trustedUsers: values["trusted-user"] ?? list(env[`${ENV_PREFIX}TRUSTED_USERS`] ?? ""),
    trustedGroups: values["trusted-group"] ?? list(env[`${ENV_PREFIX}TRUSTED_GROUPS`] ?? ""),
    printPatch: values.patch === true,
  };
  return { command: "mutate", config: Object.freeze(config) };
}

/** Parses the command line; throws ConfigError with a message fit for the terminal. */
export function parseCommand(argv: readonly string[], env: Env): Command {
  const [command, ...rest] = argv;
  try {
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
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // parseArgs errors (unknown flag, missing value) already read well.
    if (error instanceof Error && "code" in error) throw new ConfigError(error.message);
    throw error;
  }
}

/** `apolo-secret`: the user's command for the secrets API. */
export interface SecretCliConfig {
  action: "add" | "ls" | "rm" | "help";
  key: string | undefined;
  /** A literal value, or a file path when written @path. */
  value: { literal: string } | { file: string } | undefined;
  server: string | undefined;
  token: string | undefined;
  caFile: string | undefined;
  kubeconfig: string | undefined;
}

export function secretCliHelp(): string {
  return `Usage: apolo-secret <command> [options]

Manage your secrets. Values can be added and removed, never read back.

  apolo-secret add KEY VALUE        add or overwrite secret KEY with VALUE
  apolo-secret add KEY @path/file   ... with the contents of a file (any bytes)
  apolo-secret ls                   list your secrets' names
  apolo-secret rm KEY               remove secret KEY

Options (or environment):
  --server URL      the secrets API, e.g. https://secrets.example.com   (APOLO_SECRETS_SERVER)
  --token TOKEN     your bearer token; default: the current kubeconfig user's token (APOLO_SECRETS_TOKEN)
  --ca-file FILE    CA certificate to trust for the server (APOLO_SECRETS_CA_FILE)
  --kubeconfig FILE kubeconfig to take the token from (KUBECONFIG, else ~/.kube/config)

Exit codes: 0 done; 1 refused by the server (the message says why); 2 bad usage; 3 cannot reach
the server or no credentials.
`;
}

export function parseSecretCommand(argv: readonly string[], env: Env): SecretCliConfig {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        server: { type: "string" },
        token: { type: "string" },
        "ca-file": { type: "string" },
        kubeconfig: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const common = {
    server: (values.server as string | undefined) ?? env.APOLO_SECRETS_SERVER,
    token: (values.token as string | undefined) ?? env.APOLO_SECRETS_TOKEN,
    caFile: (values["ca-file"] as string | undefined) ?? env.APOLO_SECRETS_CA_FILE,
    kubeconfig: (values.kubeconfig as string | undefined) ?? env.KUBECONFIG?.split(":")[0],
  };
  const [action, key, value, ...extra] = positionals;
  if (values.help || action === undefined || action === "help")
    return { action: "help", key: undefined, value: undefined, ...common };
  if (extra.length > 0) throw new ConfigError(`too many arguments: ${extra.join(" ")}`);
  switch (action) {
    case "add":
      if (key === undefined || value === undefined)
        throw new ConfigError("usage: apolo-secret add KEY VALUE  (or add KEY @path/to/file)");
      return {
        action,
        key,
        value: value.startsWith("@") ? { file: value.slice(1) } : { literal: value },
        ...common,
      };
    case "rm":
      if (key === undefined || value !== undefined) throw new ConfigError("usage: apolo-secret rm KEY");
      return { action, key, value: undefined, ...common };
    case "ls":
      if (key !== undefined) throw new ConfigError("usage: apolo-secret ls");
      return { action, key: undefined, value: undefined, ...common };
    default:
      throw new ConfigError(`unknown command '${action}'; the commands are add, ls and rm (see --help)`);
  }
}
