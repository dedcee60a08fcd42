import { describe, expect, it } from "vitest";
import { STORE_LABELS } from "../secrets-api/store-writer.js";
import { ConfigError } from "./checks.js";
import { parseCommand } from "./command.js";
import type { Env } from "./reader.js";

const TLS = ["--tls-cert-file", "/c.crt", "--tls-key-file", "/c.key"];
const BASE = [...TLS, "--kubeconfig", "/kube/config"];
const MANAGED = [
  "--kubeconfig=/k",
  "--tls-secret=ns/tls",
  "--manage-certificates",
  "--certificate-dns-names=w.ns.svc",
];

function serve(args: string[], env: Env = {}) {
  const command = parseCommand(["serve", ...args], env);
  if (command.command !== "serve") throw new Error("not serve");
  return command.config;
}

describe("serve defaults", () => {
  it("has safe defaults: per-user scope, no trusted submitters, every namespace, labelled stores only", () => {
    const config = serve(BASE);
    expect(config).toEqual({
      port: 8443,
      metricsPort: 9090,
      bindAddress: "0.0.0.0",
      keepAliveTimeoutMs: 120_000,
      maxConnections: 1000,
      shutdownDelayMs: 5000,
      drainTimeoutMs: 20_000,
      kubeconfig: "/kube/config",
      inCluster: undefined,
      logLevel: "info",
      tlsCertFile: "/c.crt",
      tlsKeyFile: "/c.key",
      tlsReloadIntervalMs: 5000,
      tlsSecret: undefined,
      certificates: undefined,
      scope: "user",
      clusterName: undefined,
      trustedUsers: [],
      trustedGroups: [],
      // kube-controller-manager's service accounts (v1.36 names): the submitter check only.
      trustedControllers: [
        "system:serviceaccount:kube-system:job-controller",
        "system:serviceaccount:kube-system:cronjob-controller",
        "system:serviceaccount:kube-system:replicaset-controller",
        "system:serviceaccount:kube-system:statefulset-controller",
        "system:serviceaccount:kube-system:daemon-set-controller",
        "system:serviceaccount:kube-system:deployment-controller",
      ],
      // User names are owners as they are (--username-prefix empty).
      identity: { usernamePrefixes: [""] },
      namespaces: [],
      secretLabelSelectors: [
        "platform.apolo.us/secrets-store=true",
        "platform.neuromation.io/secret-api-org-name",
      ],
      lookupTimeoutMs: 2000,
      maxBodyBytes: 7_340_032,
      maxInflightBodyBytes: 16 * 1024 * 1024,
      clientCaFile: undefined,
      clientAllowedNames: [],
    });
    expect(STORE_LABELS["platform.apolo.us/secrets-store"]).toBe("true");
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("manages certificates with the documented lifetimes", () => {
    expect(serve(MANAGED).certificates).toEqual({
      webhookConfigurationName: "",
      dnsNames: ["w.ns.svc"],
      ipAddresses: [],
      caValidityMs: 8760 * 3_600_000,
      caRenewBeforeMs: 2160 * 3_600_000,
      certificateValidityMs: 2160 * 3_600_000,
      certificateRenewBeforeMs: 720 * 3_600_000,
      caOverlapMs: 10 * 60_000,
      checkIntervalMs: 60_000,
    });
  });
});

describe("serve reads flags, then the environment, then defaults", () => {
  it("takes values from the environment, and flags win over it", () => {
    const env = {
      APOLO_SECRETS_WEBHOOK_TLS_CERT_FILE: "/e.crt",
      APOLO_SECRETS_WEBHOOK_TLS_KEY_FILE: "/e.key",
      APOLO_SECRETS_WEBHOOK_TRUSTED_USERS: "system:serviceaccount:platform:api, ops",
      APOLO_SECRETS_WEBHOOK_SCOPE: "project",
      APOLO_SECRETS_WEBHOOK_PORT: "9443",
      APOLO_SECRETS_WEBHOOK_LOG_LEVEL: "warn",
      KUBECONFIG: "/env/kubeconfig",
    };
    const config = serve(["--port", "10443", "--log-level=debug", "--scope", "user"], env);
    expect(config).toMatchObject({
      tlsCertFile: "/e.crt",
      port: 10443,
      logLevel: "debug",
      scope: "user",
      trustedUsers: ["system:serviceaccount:platform:api", "ops"],
      kubeconfig: "/env/kubeconfig",
    });
    expect(serve(["--kubeconfig", "/flag"], env).kubeconfig).toBe("/flag");
    const overlap = { APOLO_SECRETS_WEBHOOK_CA_OVERLAP: "5m" };
    expect(serve([...MANAGED, "--ca-overlap", "1m"], overlap).certificates?.caOverlapMs).toBe(60_000);
    expect(serve(MANAGED, overlap).certificates?.caOverlapMs).toBe(300_000);
  });

  it("replaces the trusted controllers, or trusts none when given empty", () => {
    expect(
      serve([...BASE, "--trusted-controllers=system:kube-controller-manager"]).trustedControllers,
    ).toEqual(["system:kube-controller-manager"]);
    expect(serve(BASE, { APOLO_SECRETS_WEBHOOK_TRUSTED_CONTROLLERS: "" }).trustedControllers).toEqual([]);
  });

  it("reads the identity rule from the variable the API reads, and refuses overlapping prefixes", () => {
    const env = { APOLO_SECRETS_WEBHOOK_USERNAME_PREFIX: "system:serviceaccount:apolo-users:," };
    expect(serve(BASE, env).identity).toEqual({
      usernamePrefixes: ["system:serviceaccount:apolo-users:", ""],
    });
    expect(serve([...BASE, "--username-prefix=oidc:"], env).identity).toEqual({
      usernamePrefixes: ["oidc:"],
    });
    expect(() => serve([...BASE, "--username-prefix=u-,"])).toThrow(
      "--username-prefix (APOLO_SECRETS_WEBHOOK_USERNAME_PREFIX): with names as they are (the empty item), the prefix 'u-' must contain a character owner names never have",
    );
  });

  it("takes the last of a flag given twice", () => {
    expect(serve([...BASE, "--port=1", "--port", "2"]).port).toBe(2);
  });

  it("reads the in-cluster API address the kubelet sets, without a kubeconfig", () => {
    expect(
      serve(TLS, { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "6443" }),
    ).toMatchObject({
      kubeconfig: undefined,
      inCluster: { host: "10.0.0.1", port: "6443" },
    });
    expect(serve(TLS, { KUBERNETES_SERVICE_HOST: "10.0.0.1" }).inCluster).toEqual({
      host: "10.0.0.1",
      port: "443",
    });
  });

  it.each([
    [["--manage-certificates"], true],
    [["--manage-certificates=true"], true],
    [["--manage-certificates=1"], true],
    [["--manage-certificates=false"], false],
    [[], false],
  ])("reads the boolean %j", (flag, managed) => {
    const args = ["--kubeconfig=/k", "--tls-secret=ns/tls", "--certificate-ip-addresses=127.0.0.1", ...flag];
    expect(serve(args).certificates !== undefined).toBe(managed);
  });

  it("lets a flag turn off what the environment turned on", () => {
    const env = { APOLO_SECRETS_WEBHOOK_MANAGE_CERTIFICATES: "true" };
    expect(
      serve(["--kubeconfig=/k", "--tls-secret=ns/tls", "--certificate-dns-names=a"], env).certificates,
    ).toBeDefined();
    expect(
      serve(["--kubeconfig=/k", "--tls-secret=ns/tls", "--manage-certificates=false"], env).certificates,
    ).toBeUndefined();
  });

  it("reads the certificate source, client authentication and the store cache settings", () => {
    const config = serve([
      "--kubeconfig=/k",
      "--tls-secret=apolo/webhook-tls",
      "--manage-certificates",
      "--webhook-configuration-name=apolo-secrets-webhook",
      "--certificate-dns-names=w.ns.svc, *.ns.svc",
      "--certificate-ip-addresses=127.0.0.1,::1",
      "--ca-validity=30d",
      "--ca-renew-before=10d",
      "--ca-overlap=90s",
      "--bind-address=::",
      "--client-ca-file= /ca/client-ca.crt ",
      "--client-allowed-names=kube-apiserver, apiserver-webhook-client",
      "--namespaces=jobs,team-a",
      "--secret-label-selector= team=ml,tier in (a,b) ; !legacy ",
      "--max-inflight-body-bytes=67108864",
      "--cluster-name=prod",
    ]);
    expect(config).toMatchObject({
      tlsSecret: { namespace: "apolo", name: "webhook-tls" },
      tlsCertFile: "",
      bindAddress: "::",
      clientCaFile: "/ca/client-ca.crt",
      clientAllowedNames: ["kube-apiserver", "apiserver-webhook-client"],
      namespaces: ["jobs", "team-a"],
      secretLabelSelectors: ["team=ml,tier in (a,b)", "!legacy"],
      maxInflightBodyBytes: 67108864,
      clusterName: "prod",
    });
    expect(config.certificates).toMatchObject({
      webhookConfigurationName: "apolo-secrets-webhook",
      dnsNames: ["w.ns.svc", "*.ns.svc"],
      ipAddresses: ["127.0.0.1", "::1"],
      caValidityMs: 30 * 86_400_000,
      caRenewBeforeMs: 10 * 86_400_000,
      caOverlapMs: 90_000,
    });
  });
});

const N = (flag: string, variable: string) => `--${flag} \\(APOLO_SECRETS_WEBHOOK_${variable}\\)`;

describe("serve refuses every bad value at start, naming the flag and the variable", () => {
  it.each([
    [
      [],
      new RegExp(
        `${N("tls-cert-file", "TLS_CERT_FILE")} and ${N("tls-key-file", "TLS_KEY_FILE")} \\(or ${N("tls-secret", "TLS_SECRET")}\\) are required: the API server only calls webhooks over HTTPS`,
      ),
    ],
    [["--tls-cert-file=/c.crt"], /--tls-key-file .* are required/],
    [
      [...TLS, "--tls-secret=ns/tls"],
      new RegExp(`set either ${N("tls-secret", "TLS_SECRET")} or the certificate files, not both`),
    ],
    [
      ["--tls-secret=tls"],
      /--tls-secret \(APOLO_SECRETS_WEBHOOK_TLS_SECRET\) must be NAMESPACE\/NAME, got 'tls'/,
    ],
    [["--tls-secret=a/b/c"], /must be NAMESPACE\/NAME, got 'a\/b\/c'/],
    [["--tls-secret=Not_OK/x"], /must be NAMESPACE\/NAME, got 'Not_OK\/x'/],
    [
      [...TLS, "--manage-certificates"],
      new RegExp(
        `${N("manage-certificates", "MANAGE_CERTIFICATES")} needs ${N("tls-secret", "TLS_SECRET")}: the Secret it keeps the certificates in`,
      ),
    ],
    [
      ["--tls-secret=ns/tls", "--manage-certificates"],
      new RegExp(
        `needs ${N("certificate-dns-names", "CERTIFICATE_DNS_NAMES")} or ${N("certificate-ip-addresses", "CERTIFICATE_IP_ADDRESSES")}: the names the API server calls`,
      ),
    ],
    [
      [...TLS, "--manage-certificates=yes"],
      /--manage-certificates \(APOLO_SECRETS_WEBHOOK_MANAGE_CERTIFICATES\) must be true or false, got 'yes'/,
    ],
    [
      [...TLS, "--tls-reload-interval-ms=50"],
      /--tls-reload-interval-ms .* must be between 100 and 3600000, got 50/,
    ],
    [[...TLS, "--port", "http"], new RegExp(`${N("port", "PORT")} must be a whole number, got 'http'`)],
    [[...TLS, "--port", "70000"], /--port .* must be between 0 and 65535, got 70000/],
    [[...TLS, "--metrics-port", "-1"], /--metrics-port .* must be a whole number, got '-1'/],
    [
      [...TLS, "--bind-address", "0.0.0.0:8443"],
      new RegExp(
        `${N("bind-address", "BIND_ADDRESS")} must be an IP address \\(0.0.0.0 or :: for every interface\\) or a host name, got '0.0.0.0:8443'`,
      ),
    ],
    [[...TLS, "--bind-address", ""], /--bind-address .* must be an IP address/],
    [
      [...TLS, "--keep-alive-timeout-ms", "60000"],
      /--keep-alive-timeout-ms .* must exceed 90000: the API server reuses idle connections for up to 90 s/,
    ],
    [[...TLS, "--keep-alive-timeout-ms", "4000000"], /must be between 1000 and 3600000/],
    [[...TLS, "--shutdown-delay-ms", "600001"], /--shutdown-delay-ms .* must be between 0 and 600000/],
    [[...TLS, "--drain-timeout-ms", "soon"], /--drain-timeout-ms .* must be a whole number, got 'soon'/],
    [
      [...TLS, "--log-level", "loud"],
      new RegExp(`${N("log-level", "LOG_LEVEL")} must be debug, info, warn or error, got 'loud'`),
    ],
    [
      [...TLS, "--webhook-configuration-name", "Bad Name"],
      /--webhook-configuration-name .* 'Bad Name' is not a valid object name/,
    ],
    [
      [...TLS, "--client-allowed-names", "kube-apiserver"],
      new RegExp(
        `${N("client-allowed-names", "CLIENT_ALLOWED_NAMES")} needs ${N("client-ca-file", "CLIENT_CA_FILE")}: names are checked on client certificates that CA issued`,
      ),
    ],
    [
      [...TLS, "--scope", "team"],
      new RegExp(`${N("scope", "SCOPE")} must be 'user' or 'project', got 'team'`),
    ],
    [[...TLS, "--cluster-name", "a/b"], /--cluster-name .* 'a\/b' is not a valid cluster name/],
    [[...TLS, "--namespaces", "ok,Not_OK"], /--namespaces .*: 'Not_OK' is not a valid namespace name/],
    [[...TLS, "--lookup-timeout-ms", "5"], /--lookup-timeout-ms .* must be between 10 and 30000, got 5/],
    [[...TLS, "--max-body-bytes", "100"], /--max-body-bytes .* must be between 1024 and 67108864, got 100/],
    [[...TLS, "--max-inflight-body-bytes", "2147483648"], /must be between 1024 and 1073741824/],
    [
      [...TLS, "--max-inflight-body-bytes", "1048576"],
      /--max-inflight-body-bytes .* \(1048576\) must be at least --max-body-bytes .* \(7340032\), or the largest review could never be read/,
    ],
  ])("refuses %j", (args, message) => {
    const run = () => serve([...args, "--kubeconfig=/k"]);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });

  it("needs a kubeconfig outside a cluster", () => {
    expect(() => serve(TLS)).toThrow(
      "--kubeconfig (KUBECONFIG) is required outside a cluster (KUBERNETES_SERVICE_HOST is unset): the server reads from the Kubernetes API",
    );
  });

  it.each([
    [["--secret-label-selector", ""], /--secret-label-selector .* must name at least one label selector/],
    [["--secret-label-selector", " ; "], /must name at least one label selector/],
    [
      ["--secret-label-selector", Array.from({ length: 31 }, (_, i) => `k${i}`).join(";")],
      /at most 30 label selectors \(each is a list and a watch\), got 31/,
    ],
    [["--secret-label-selector", "a=b;c=\\d"], /'c=\\d' is not a label selector/],
    [["--secret-label-selector", `a=${"b".repeat(1025)}`], /is not a label selector/],
  ])("refuses the selectors %j", (args, message) => {
    expect(() => serve([...BASE, ...args])).toThrow(message);
  });
});
