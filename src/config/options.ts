// The option table: every setting of `serve` and `api`, with its flag, environment variable,
// default and help. Flag names are literal types, so a parser that asks for a flag the table does
// not have does not compile (see options.test.ts).

import { ENV_PREFIX, env, type FlagOf, type OptionSpec } from "./option-spec.js";

export { ENV_PREFIX, type FlagOf, type OptionSpec };

/** How `serve` and `api` get their serving certificate. */
export const CERTIFICATE_OPTIONS = [
  {
    flag: "tls-cert-file",
    env: env("TLS_CERT_FILE"),
    default: "",
    help: "PEM certificate (chain) to serve; reloaded when it changes (this and the key, or --tls-secret)",
  },
  {
    flag: "tls-key-file",
    env: env("TLS_KEY_FILE"),
    default: "",
    help: "PEM private key of the certificate; reloaded with it",
  },
  {
    flag: "tls-secret",
    env: env("TLS_SECRET"),
    default: "",
    help: "NAMESPACE/NAME of a Secret holding tls.crt and tls.key, read through the API instead of files",
  },
  {
    flag: "tls-reload-interval-ms",
    env: env("TLS_RELOAD_INTERVAL_MS"),
    default: "5000",
    help: "how often the certificate files (or the Secret) are re-read (100 to 3600000)",
  },
  {
    flag: "manage-certificates",
    env: env("MANAGE_CERTIFICATES"),
    default: "false",
    kind: "boolean",
    help: "issue and rotate the CA and serving certificate in --tls-secret, and inject the CA bundle",
  },
  {
    flag: "certificate-dns-names",
    env: env("CERTIFICATE_DNS_NAMES"),
    default: "",
    help: "comma-separated DNS names of the managed serving certificate (the Service's names)",
  },
  {
    flag: "certificate-ip-addresses",
    env: env("CERTIFICATE_IP_ADDRESSES"),
    default: "",
    help: "comma-separated IP addresses of the managed serving certificate",
  },
  { flag: "ca-validity", env: env("CA_VALIDITY"), default: "8760h", help: "lifetime of a managed CA" },
  {
    flag: "ca-renew-before",
    env: env("CA_RENEW_BEFORE"),
    default: "2160h",
    help: "a new CA is staged when the current one has less than this left (below --ca-validity)",
  },
  {
    flag: "certificate-validity",
    env: env("CERTIFICATE_VALIDITY"),
    default: "2160h",
    help: "lifetime of a managed serving certificate",
  },
  {
    flag: "certificate-renew-before",
    env: env("CERTIFICATE_RENEW_BEFORE"),
    default: "720h",
    help: "the serving certificate is reissued when it has less than this left (below its validity)",
  },
  {
    flag: "ca-overlap",
    env: env("CA_OVERLAP"),
    default: "10m",
    help: "a new CA is trusted this long before it signs (below --ca-renew-before)",
  },
  {
    flag: "certificate-check-interval",
    env: env("CERTIFICATE_CHECK_INTERVAL"),
    default: "1m",
    help: "how often each replica checks the managed certificates (durations: ms, s, m, h, d)",
  },
] as const satisfies readonly OptionSpec[];

/** Listening, shutdown, API access and logging: every server has these. */
export const SERVER_OPTIONS = [
  {
    flag: "bind-address",
    env: env("BIND_ADDRESS"),
    default: "0.0.0.0",
    help: "address the HTTPS and metrics ports listen on (an IP address or a host name)",
  },
  {
    flag: "keep-alive-timeout-ms",
    env: env("KEEP_ALIVE_TIMEOUT_MS"),
    default: "120000",
    help: "idle keep-alive (1000 to 3600000; serve: above the API server's 90 s idle connection reuse)",
  },
  {
    flag: "max-connections",
    env: env("MAX_CONNECTIONS"),
    default: "1000",
    help: "open HTTPS connections accepted at once; beyond it new connections are closed, since each idle TLS connection holds memory (1 to 1000000)",
  },
  {
    flag: "shutdown-delay-ms",
    env: env("SHUTDOWN_DELAY_MS"),
    default: "5000",
    help: "after SIGTERM, keep answering while /readyz reports not ready, so endpoints drop this pod first",
  },
  {
    flag: "drain-timeout-ms",
    env: env("DRAIN_TIMEOUT_MS"),
    default: "20000",
    help: "after the delay, how long in-flight requests may take before connections are closed",
  },
  {
    flag: "kubeconfig",
    env: "KUBECONFIG",
    default: "",
    value: "FILE",
    help: "kubeconfig file; empty uses the in-cluster service account (KUBERNETES_SERVICE_HOST must be set)",
  },
  {
    flag: "log-level",
    env: env("LOG_LEVEL"),
    default: "info",
    value: "LEVEL",
    help: "debug, info, warn or error",
  },
  ...CERTIFICATE_OPTIONS,
] as const satisfies readonly OptionSpec[];

/** What the operator decides about owners and submitters: `serve` and `mutate` share these. */
export const SCOPE_OPTION = {
  flag: "scope",
  env: env("SCOPE"),
  default: "user",
  value: "user|project",
  help: "store model: user (user--{owner}--secrets) or project (project--{org}--{project}--secrets)",
} as const satisfies OptionSpec;

export const CLUSTER_NAME_OPTION = {
  flag: "cluster-name",
  env: env("CLUSTER_NAME"),
  default: "",
  help: "cluster name that secret://CLUSTER/... references must carry; empty refuses full references",
} as const satisfies OptionSpec;

/** kube-controller-manager's service accounts (--use-service-account-credentials) that create pods and workloads. */
export const TRUSTED_CONTROLLERS_OPTION = {
  flag: "trusted-controllers",
  env: env("TRUSTED_CONTROLLERS"),
  default: ["job", "cronjob", "replicaset", "statefulset", "daemon-set", "deployment"]
    .map((name) => `system:serviceaccount:kube-system:${name}-controller`)
    .join(","),
  help: "comma-separated users of the built-in controllers: they pass the submitter check only, for the pods (and Jobs, ReplicaSets) they create from templates checked when a person wrote them; empty trusts none",
} as const satisfies OptionSpec;

/** The identity rule (user name → owner), one setting for `serve`, `api` and `mutate` alike. */
export const USERNAME_PREFIX_OPTION = {
  flag: "username-prefix",
  env: env("USERNAME_PREFIX"),
  default: "",
  value: "PREFIXES",
  help: "comma-separated prefixes removed from authenticated user names to give the owner (e.g. system:serviceaccount:apolo-users:); an empty item also takes names as they are (system:serviceaccount:apolo-users:, for both); a name that maps to no owner is refused by api and is no pod's owner in serve; empty: the user name is the owner",
} as const satisfies OptionSpec;

/** Options of `serve`, the admission webhook. */
export const SERVE_OPTIONS = [
  {
    flag: "port",
    env: env("PORT"),
    default: "8443",
    help: "HTTPS port for POST /mutate, /healthz and /readyz",
  },
  {
    flag: "metrics-port",
    env: env("METRICS_PORT"),
    default: "9090",
    help: "plain-HTTP port for GET /metrics, /healthz and /readyz; 0 turns it off",
  },
  ...SERVER_OPTIONS,
  {
    flag: "webhook-configuration-name",
    env: env("WEBHOOK_CONFIGURATION_NAME"),
    default: "",
    help: "MutatingWebhookConfiguration whose caBundle the managed CA is injected into",
  },
  {
    flag: "client-ca-file",
    env: env("CLIENT_CA_FILE"),
    default: "",
    value: "FILE",
    help: "PEM CA bundle of the API server's client certificate: when set, the HTTPS port requires a client certificate it issued (reloaded when it changes); probes use the metrics port",
  },
  {
    flag: "client-allowed-names",
    env: env("CLIENT_ALLOWED_NAMES"),
    default: "",
    help: "comma-separated subject CNs a client certificate must have (needs --client-ca-file); empty accepts any certificate the CA issued",
  },
  SCOPE_OPTION,
  CLUSTER_NAME_OPTION,
  {
    flag: "trusted-users",
    env: env("TRUSTED_USERS"),
    default: "",
    help: "comma-separated user names allowed to submit pods for any owner (the platform's service account)",
  },
  {
    flag: "trusted-groups",
    env: env("TRUSTED_GROUPS"),
    default: "",
    help: "comma-separated groups whose members may submit pods for any owner",
  },
  TRUSTED_CONTROLLERS_OPTION,
  USERNAME_PREFIX_OPTION,
  {
    flag: "namespaces",
    env: env("NAMESPACES"),
    default: "",
    help: "comma-separated namespaces whose store Secrets are cached; empty caches all namespaces",
  },
  {
    flag: "secret-label-selector",
    env: env("SECRET_LABEL_SELECTOR"),
    // The secrets API's label (STORE_LABELS) and the platform's own secrets service's label.
    default: "platform.apolo.us/secrets-store=true;platform.neuromation.io/secret-api-org-name",
    help: "label selectors of store Secrets, separated by ';' (1 to 30; a Secret matching any is a store); only these Secrets are listed, watched and looked up",
  },
  {
    flag: "lookup-timeout-ms",
    env: env("LOOKUP_TIMEOUT_MS"),
    default: "2000",
    help: "bound on the one live GET of a store after a cache miss (10 to 30000)",
  },
  {
    flag: "max-body-bytes",
    env: env("MAX_BODY_BYTES"),
    default: "7340032",
    help: "largest AdmissionReview accepted; larger bodies get 413 (1024 to 67108864)",
  },
  {
    flag: "max-inflight-body-bytes",
    env: env("MAX_INFLIGHT_BODY_BYTES"),
    default: "16777216",
    help: "bytes of review bodies held at once over all connections; beyond it requests get 429 (at least --max-body-bytes, at most 1073741824)",
  },
] as const satisfies readonly OptionSpec[];

/** Options of `api`, the secrets API: its own ports, the store namespace, the identity rule. */
export const API_OPTIONS = [
  {
    flag: "port",
    env: env("API_PORT"),
    default: "8444",
    help: "HTTPS port of /api/v1/secrets, /healthz and /readyz",
  },
  {
    flag: "metrics-port",
    env: env("API_METRICS_PORT"),
    default: "9091",
    help: "plain-HTTP port for GET /metrics, /healthz and /readyz; 0 turns it off",
  },
  {
    flag: "namespace",
    env: env("API_NAMESPACE"),
    default: "",
    help: "namespace of the stores the API writes (required)",
  },
  USERNAME_PREFIX_OPTION,
  {
    ...SCOPE_OPTION,
    env: env("API_SCOPE"),
    help: "store model: user (each caller's own user--{owner}--secrets, whatever org or project it names) or project (project--{org}--{project}--secrets of the org_name and project_name it names, when a SubjectAccessReview allows 'get' (list) or 'update' (add, rm) on projects.secrets.apolo.us named {org}--{project} in --namespace)",
  },
  {
    flag: "max-inflight-body-bytes",
    env: env("MAX_INFLIGHT_BODY_BYTES"),
    // Each add also reads and rewrites its owner's store (up to 1 MiB of data), so a few at once.
    default: "6291456",
    help: "bytes of request bodies held at once over all connections (after authentication); beyond it requests get 429 (2097152 to 1073741824)",
  },
  ...SERVER_OPTIONS,
] as const satisfies readonly OptionSpec[];
