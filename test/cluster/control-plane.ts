// A real control plane without Docker, as controller-runtime's envtest runs one: etcd and
// kube-apiserver built by `make cluster-tools`, on free loopback ports, with client-certificate
// users from a throwaway CA and RBAC on.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createCa, type IssuedCert, issueCert, type TestCa } from "../support/certs.js";
import {
  authenticationConfiguration,
  type IdentityProvider,
  startIdentityProvider,
  waitForPlatformTokens,
} from "./identity-provider.js";
import {
  assertServing,
  type Managed,
  PortTaken,
  startOnFreePorts,
  startProcess,
  stopProcess,
  tail,
  waitFor,
} from "./processes.js";

export interface ToolPaths {
  etcd: string;
  etcdctl: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubectl: string;
  etcdVersion: string;
  kubeVersion: string;
}

/** Users of the test cluster: name → groups. `platform` plays the platform's job submitter. */
export const USERS = {
  admin: { name: "admin", groups: ["system:masters"] },
  webhook: { name: "apolo-secrets-webhook", groups: [] },
  api: { name: "apolo-secrets-api", groups: [] },
  platform: { name: "platform-submitter", groups: ["apolo:platform"] },
  alice: { name: "alice", groups: ["apolo:users"] },
  bob: { name: "bob", groups: ["apolo:users"] },
} as const;
export type UserKey = keyof typeof USERS;

export interface ControlPlane {
  dir: string;
  pidFile: string;
  ca: TestCa;
  server: string;
  kubeconfigs: Record<UserKey, string>;
  tools: ToolPaths;
  apiserverArgs: string[];
  /** etcd's client URL: tests read stored objects straight from it (encryption at rest). */
  etcdUrl: string;
  /** The API server's audit log: the webhook user's requests for Secrets, pod creations (see AUDIT_POLICY). */
  auditLog: string;
  /** How the API server authenticates to the webhook (see webhookClientAuth). */
  webhookClient: WebhookClientAuth;
  /** The platform's identity provider, whose tokens the API server trusts (--authentication-config). */
  identityProvider: IdentityProvider;
}

export function toolsCacheDir(): string {
  return (
    process.env.APOLO_TOOLS_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "apolo-secrets-webhook", "bin")
  );
}

export function loadToolPaths(): ToolPaths {
  const file = join(toolsCacheDir(), "versions.env");
  if (!existsSync(file)) {
    throw new Error(
      `the control-plane binaries are missing (${file}); run 'make cluster-tools' (make test does it)`,
    );
  }
  const env = Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  const tools: ToolPaths = {
    etcd: env.ETCD_BIN ?? "",
    etcdctl: env.ETCDCTL_BIN ?? "",
    kubeApiserver: env.KUBE_APISERVER_BIN ?? "",
    kubeControllerManager: env.KUBE_CONTROLLER_MANAGER_BIN ?? "",
    kubectl: env.KUBECTL_BIN ?? "",
    etcdVersion: env.ETCD_VERSION ?? "",
    kubeVersion: env.KUBE_VERSION ?? "",
  };
  for (const [name, path] of Object.entries({
    etcd: tools.etcd,
    etcdctl: tools.etcdctl,
    "kube-apiserver": tools.kubeApiserver,
    "kube-controller-manager": tools.kubeControllerManager,
    kubectl: tools.kubectl,
  })) {
    if (!path || !existsSync(path))
      throw new Error(
        `control-plane binary ${name} (${path || `not in ${file}`}) is missing; run 'make cluster-tools'`,
      );
  }
  return tools;
}

function kubeconfig(server: string, caFile: string, user: string, certFile: string, keyFile: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${server}
    certificate-authority: ${caFile}
users:
- name: ${user}
  user:
    client-certificate: ${certFile}
    client-key: ${keyFile}
contexts:
- name: ${user}@local
  context: {cluster: local, user: ${user}}
current-context: ${user}@local
`;
}

// RBAC for the test users: the platform and users create pods (and debug containers); the
// webhook reads Secrets. Applied once with the admin's kubeconfig.
const RBAC = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-job-submitter}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [create, get, list, delete]
- apiGroups: [""]
  resources: [pods/ephemeralcontainers]
  verbs: [update, patch]
- apiGroups: [batch]
  resources: [jobs, cronjobs]
  verbs: [create, get, list, update, patch, delete]
- apiGroups: [apps]
  resources: [deployments, replicasets, statefulsets, daemonsets]
  verbs: [create, get, list, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-job-submitters}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-job-submitter}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "apolo:platform"}
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "apolo:users"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-secrets-writer}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [create, get, update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-platform-secrets}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-secrets-writer}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "apolo:platform"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-secrets-webhook-reader}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-secrets-webhook-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-secrets-webhook-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: apolo-secrets-webhook}
---
# The secrets API: token reviews, access reviews (project scope), and read-modify-write of store Secrets (never list or watch).
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-secrets-api}
rules:
- apiGroups: [authentication.k8s.io]
  resources: [tokenreviews]
  verbs: [create]
- apiGroups: [authorization.k8s.io]
  resources: [subjectaccessreviews]
  verbs: [create]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, create, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-secrets-api}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-secrets-api}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: apolo-secrets-api}
---
# Platform users as the secrets API sees them: service accounts whose tokens the CLI sends.
apiVersion: v1
kind: Namespace
metadata: {name: apolo-users}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: alice, namespace: apolo-users}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: bob, namespace: apolo-users}
`;

// Secrets are encrypted at rest, as the product promises, with a key made for this run: what etcd
// holds starts with k8s:enc:secretbox:v1:run-key: (test/e2e/encryption.test.ts reads it back).
function encryptionConfiguration(): string {
  return `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - secretbox:
      keys:
      - name: run-key
        secret: ${randomBytes(32).toString("base64")}
  - identity: {}
`;
}

// What the webhook's user asks of Secrets, with the request URI (query included): the proof that
// every list and watch carries a label selector (test/e2e/least-privilege.test.ts). Nothing else.
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: [${USERS.webhook.name}]
  resources: [{group: "", resources: [secrets]}]
- level: Metadata
  verbs: [create]
  resources: [{group: "", resources: [pods]}]
- level: None
`;
/**
 * The API server's client certificate for calls to the webhook, as production configures it:
 * AdmissionConfiguration → WebhookAdmissionConfiguration → a kubeconfig whose user entry is named
 * for the webhook's host:port, here the default entry `*` (every webhook of the test cluster is
 * on loopback, and the webhook's port is chosen only when it starts, after the API server read
 * this file). Its CA is the webhook's own (not the cluster CA, whose user certificates must not
 * open /mutate).
 */
export interface WebhookClientAuth {
  ca: TestCa;
  cert: IssuedCert;
  admissionConfigFile: string;
}

export const WEBHOOK_CLIENT_NAME = "kube-apiserver-webhook-client";

function webhookClientAuth(certs: string): WebhookClientAuth {
  const ca = createCa(certs, "webhook-client-ca", 2);
  const cert = issueCert(ca, {
    name: "apiserver-webhook-client",
    commonName: WEBHOOK_CLIENT_NAME,
    usage: "client",
  });
  const kubeconfigFile = join(certs, "admission-webhooks.kubeconfig");
  writeFileSync(
    kubeconfigFile,
    `apiVersion: v1
kind: Config
users:
- name: "*"
  user:
    client-certificate: ${cert.certFile}
    client-key: ${cert.keyFile}
`,
  );
  const admissionConfigFile = join(certs, "admission-configuration.yaml");
  writeFileSync(
    admissionConfigFile,
    `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: MutatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: ${kubeconfigFile}
`,
  );
  return { ca, cert, admissionConfigFile };
}

export function kubectl(plane: ControlPlane, user: UserKey, args: string[], input?: string): string {
  try {
    return execFileSync(plane.tools.kubectl, ["--kubeconfig", plane.kubeconfigs[user], ...args], {
      input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(" ")} failed: ${e.stderr || e.message}`);
  }
}

export function startApiserver(plane: ControlPlane): Managed {
  return startProcess(plane.dir, plane.pidFile, {
    name: "kube-apiserver",
    command: plane.tools.kubeApiserver,
    args: plane.apiserverArgs,
  });
}

export async function waitForApiserver(
  plane: ControlPlane,
  apiserver: Managed,
  timeoutMs = 90_000,
): Promise<void> {
  let exited = false;
  void apiserver.exited.then(() => {
    exited = true;
  });
  await waitFor(
    "kube-apiserver /readyz",
    async () => {
      assertServing(apiserver, exited, "kube-apiserver");
      const out = execFileSync(
        plane.tools.kubectl,
        ["--kubeconfig", plane.kubeconfigs.admin, "get", "--raw", "/readyz"],
        {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
          timeout: 5_000,
        },
      );
      return out.trim() === "ok" ? true : undefined;
    },
    timeoutMs,
    500,
  ).catch((error: unknown) => {
    if (error instanceof PortTaken) throw error;
    throw new Error(`${String(error)}\n--- kube-apiserver log ---\n${tail(apiserver.logFile)}`);
  });
}

export async function restartApiserver(plane: ControlPlane): Promise<void> {
  await stopProcess(plane.pidFile, "kube-apiserver", "SIGTERM");
  const apiserver = startApiserver(plane);
  await waitForApiserver(plane, apiserver);
}

/** Starts etcd on two fresh ports; returns its client URL once it is healthy. */
function startEtcd(
  dir: string,
  pidFile: string,
  tools: ToolPaths,
  log: (line: string) => void,
): Promise<string> {
  return startOnFreePorts(async ([etcdPort, peerPort]) => {
    log(`etcd ${tools.etcdVersion} on 127.0.0.1:${etcdPort}`);
    const etcd = startProcess(dir, pidFile, {
      name: "etcd",
      command: tools.etcd,
      args: [
        "--name=default",
        `--data-dir=${join(dir, "etcd-data")}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
        "--unsafe-no-fsync", // test data: durability is not needed, speed is
        "--log-level=warn",
      ],
    });
    let exited = false;
    void etcd.exited.then(() => {
      exited = true;
    });
    await waitFor(
      "etcd /health",
      async () => {
        assertServing(etcd, exited, "etcd");
        const response = await fetch(`http://127.0.0.1:${etcdPort}/health`).catch(() => undefined);
        return response?.ok ? true : undefined;
      },
      30_000,
    ).catch((error: unknown) => {
      if (error instanceof PortTaken) throw error;
      throw new Error(`${String(error)}\n--- etcd log ---\n${tail(etcd.logFile)}`);
    });
    return `http://127.0.0.1:${etcdPort}`;
  });
}

/** Starts etcd and kube-apiserver in `dir`; returns once the API server is ready and RBAC is applied. */
export async function startControlPlane(
  dir: string,
  pidFile: string,
  log: (line: string) => void,
): Promise<ControlPlane> {
  const tools = loadToolPaths();
  const certs = join(dir, "pki");
  mkdirSync(certs, { recursive: true });
  const ca = createCa(certs, "ca", 2);
  const serving = issueCert(ca, {
    name: "apiserver",
    commonName: "kube-apiserver",
    ips: ["127.0.0.1"],
    dnsNames: ["localhost"],
    usage: "server",
  });
  const webhookClient = webhookClientAuth(certs);
  const saKey = join(certs, "sa.key");
  const saPub = join(certs, "sa.pub");
  execFileSync("openssl", ["genrsa", "-out", saKey, "2048"], { stdio: "ignore" });
  execFileSync("openssl", ["rsa", "-in", saKey, "-pubout", "-out", saPub], { stdio: "ignore" });
  const userCerts = new Map<UserKey, IssuedCert>();
  for (const [key, user] of Object.entries(USERS) as Array<[UserKey, (typeof USERS)[UserKey]]>) {
    userCerts.set(
      key,
      issueCert(ca, {
        name: `user-${key}`,
        commonName: user.name,
        organizations: [...user.groups],
        usage: "client",
      }),
    );
  }

  const etcdUrl = await startEtcd(dir, pidFile, tools, log);
  const encryptionConfig = join(dir, "encryption-config.yaml");
  writeFileSync(encryptionConfig, encryptionConfiguration(), { mode: 0o600 });
  const auditPolicy = join(dir, "audit-policy.yaml");
  writeFileSync(auditPolicy, AUDIT_POLICY);
  const auditLog = join(dir, "audit.log");
  // Up before the API server, which reads its discovery document and keys.
  const identityProvider = await startIdentityProvider(certs, ca);
  const authenticationConfig = join(dir, "authentication-config.yaml");
  writeFileSync(authenticationConfig, authenticationConfiguration(identityProvider, ca.pem));
  log(`platform identity provider on ${identityProvider.issuer}`);

  const plane = await startOnFreePorts(async ([apiPort]) => {
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfigs = {} as Record<UserKey, string>;
    for (const [key, cert] of userCerts) {
      const file = join(dir, `${key}.kubeconfig`);
      writeFileSync(file, kubeconfig(server, ca.certFile, USERS[key].name, cert.certFile, cert.keyFile));
      kubeconfigs[key] = file;
    }
    const plane: ControlPlane = {
      dir,
      pidFile,
      ca,
      server,
      kubeconfigs,
      tools,
      etcdUrl,
      auditLog,
      webhookClient,
      identityProvider,
      apiserverArgs: [
        `--etcd-servers=${etcdUrl}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${apiPort}`,
        `--cert-dir=${certs}`,
        `--tls-cert-file=${serving.certFile}`,
        `--tls-private-key-file=${serving.keyFile}`,
        `--client-ca-file=${ca.certFile}`,
        "--service-cluster-ip-range=10.0.0.0/24",
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${saPub}`,
        `--service-account-signing-key-file=${saKey}`,
        "--authorization-mode=RBAC",
        "--allow-privileged=true",
        // No default route here: nothing may be dialled outside loopback.
        "--endpoint-reconciler-type=none",
        "--enable-aggregator-routing=true",
        "--profiling=false",
        `--encryption-provider-config=${encryptionConfig}`,
        `--audit-policy-file=${auditPolicy}`,
        `--audit-log-path=${auditLog}`,
        `--admission-control-config-file=${webhookClient.admissionConfigFile}`,
        `--authentication-config=${authenticationConfig}`,
        "--v=1",
      ],
    };
    log(`kube-apiserver ${tools.kubeVersion} on ${server}`);
    await waitForApiserver(plane, startApiserver(plane));
    return plane;
  });
  kubectl(plane, "admin", ["apply", "-f", "-"], RBAC);
  await waitForPlatformTokens(plane.tools.kubectl, plane.kubeconfigs.admin, identityProvider);
  await startControllerManager(plane, log);
  return plane;
}

/** The controllers that turn workloads into pods; each acts as its own service account. */
export const CONTROLLERS = [
  "job-controller",
  "cronjob-controller",
  "deployment-controller",
  "replicaset-controller",
];

/**
 * kube-controller-manager with only the workload controllers, each with its own service account's
 * credentials (`--use-service-account-credentials`, as kubeadm runs it), so the pods a Job or a
 * ReplicaSet makes reach the webhook as `system:serviceaccount:kube-system:job-controller` and
 * so on. No serving port (`--secure-port=0`), no leader election; ready once every controller's
 * service account exists (it makes them before starting the controllers).
 */
async function startControllerManager(plane: ControlPlane, log: (line: string) => void): Promise<void> {
  const cert = issueCert(plane.ca, {
    name: "kube-controller-manager",
    commonName: "system:kube-controller-manager",
    usage: "client",
  });
  const file = join(plane.dir, "kube-controller-manager.kubeconfig");
  writeFileSync(file, kubeconfig(plane.server, plane.ca.certFile, "kcm", cert.certFile, cert.keyFile));
  log(`kube-controller-manager ${plane.tools.kubeVersion}: ${CONTROLLERS.join(", ")}`);
  const manager = startProcess(plane.dir, plane.pidFile, {
    name: "kube-controller-manager",
    command: plane.tools.kubeControllerManager,
    args: [
      `--kubeconfig=${file}`,
      "--use-service-account-credentials=true",
      `--controllers=${CONTROLLERS.join(",")}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      "--secure-port=0",
      "--v=1",
    ],
  });
  let exited = false;
  void manager.exited.then(() => {
    exited = true;
  });
  await waitFor(
    "kube-controller-manager's service accounts",
    async () => {
      assertServing(manager, exited, "kube-controller-manager");
      const names = kubectl(plane, "admin", ["get", "serviceaccounts", "-n", "kube-system", "-o", "name"]);
      return CONTROLLERS.every((c) => names.includes(`serviceaccount/${c}`)) ? true : undefined;
    },
    60_000,
    500,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- kube-controller-manager log ---\n${tail(manager.logFile)}`);
  });
}

/** A kubeconfig for a new client-certificate user of `plane` (no RBAC of its own until granted). */
export function userKubeconfig(plane: ControlPlane, user: string, groups: string[] = []): string {
  const cert = issueCert(plane.ca, {
    name: `user-${user}`,
    commonName: user,
    organizations: groups,
    usage: "client",
  });
  const file = join(plane.dir, `${user}.kubeconfig`);
  writeFileSync(file, kubeconfig(plane.server, plane.ca.certFile, user, cert.certFile, cert.keyFile));
  return file;
}
