// The Helm chart against the real API server: every rendered object is accepted; the chart
// installed with helm, its webhook configuration pointed at webhook replicas run from a
// production install (the image's steps) with the chart's own ServiceAccount and environment;
// real admissions; an upgrade that keeps the certificates; rotation of certificate and CA under load.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { CHART, helm, KUBE_VERSION, type Manifest } from "../chart/helm.js";
import { kubectl } from "../cluster/control-plane.js";
import { freePort, type Managed, startProcess, stopProcess, tail, waitFor } from "../cluster/processes.js";
import { productionInstall } from "../cluster/production-install.js";
import { postJson } from "../support/https-client.js";
import { reviewFor } from "../support/replay.js";
import {
  admittedSecretRef,
  api,
  createPod,
  e2e,
  freshNamespace,
  jobPod,
  metricValue,
  putStore,
  storeName,
} from "./support.js";

const local = e2e().local;
const RELEASE = "asw";
const NAMESPACE = "apolo-chart";
const FULLNAME = `${RELEASE}-apolo-secrets-webhook`;
const SERVED_LABEL = "chart-e2e";
const TLS_SECRET = `${FULLNAME}-tls`;

let work: string;
let installDir: string;
let servedNs: string;
let port: number;
let helmEnv: NodeJS.ProcessEnv;
const replicas: Array<{ name: string; port: number; metricsPort: number; managed: Managed }> = [];

function valuesFile(port: number): string {
  const file = join(work, "values.yaml");
  writeFileSync(
    file,
    JSON.stringify({
      webhook: {
        clientConfigUrl: `https://127.0.0.1:${port}/mutate`,
        namespaceSelector: {
          matchLabels: { "platform.apolo.us/secrets-webhook": null, [SERVED_LABEL]: "enabled" },
        },
        trustedUsers: [e2e().users.platform],
        clusterName: e2e().clusterName,
      },
      // Short lifetimes, so that certificate and CA rotate while the suite runs.
      certificates: {
        ipAddresses: ["127.0.0.1"],
        caValidity: "140s",
        caRenewBefore: "90s",
        validity: "30s",
        renewBefore: "15s",
        caOverlap: "5s",
        checkInterval: "1s",
      },
    }),
  );
  return file;
}

function renderedManifests(values: string[], namespace: string, release: string): Manifest[] {
  const result = helm([
    "template",
    release,
    CHART,
    "-n",
    namespace,
    "--kube-version",
    KUBE_VERSION,
    ...values.flatMap((v) => ["--set", v]),
  ]);
  if (!result.ok) throw new Error(result.stderr);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as Manifest)
    .filter(Boolean);
}

/** The env of the chart's Deployment, as installed: the replicas run with exactly this. */
function deploymentEnv(): Record<string, string> {
  const manifest = JSON.parse(
    kubectl(local?.plane as NonNullable<typeof local>["plane"], "admin", [
      "get",
      "deployment",
      FULLNAME,
      "-n",
      NAMESPACE,
      "-o",
      "json",
    ]),
  );
  const env = manifest.spec.template.spec.containers[0].env as Array<{ name: string; value: string }>;
  return Object.fromEntries(env.map((e) => [e.name, e.value]));
}

async function startReplica(name: string, kubeconfigFile: string, port: number): Promise<void> {
  if (!local) throw new Error("needs the local control plane");
  const metricsPort = await freePort();
  const managed = startProcess(local.plane.dir, local.plane.pidFile, {
    name,
    command: process.execPath,
    args: [join(installDir, "dist/main.js"), "serve"],
    env: {
      ...deploymentEnv(),
      PATH: process.env.PATH,
      APOLO_SECRETS_WEBHOOK_BIND_ADDRESS: "127.0.0.1",
      APOLO_SECRETS_WEBHOOK_PORT: String(port),
      APOLO_SECRETS_WEBHOOK_METRICS_PORT: String(metricsPort),
      APOLO_SECRETS_WEBHOOK_TLS_RELOAD_INTERVAL_MS: "500",
      APOLO_SECRETS_WEBHOOK_SHUTDOWN_DELAY_MS: "0",
      KUBECONFIG: kubeconfigFile,
    },
  });
  replicas.push({ name, port, metricsPort, managed });
  await waitFor(
    `${name} ready`,
    async () => {
      const text = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then((r) => r.text());
      return text === "ok\n" ? true : undefined;
    },
    60_000,
    250,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- ${name} log ---\n${tail(managed.logFile)}`);
  });
}

function caBundle(): string {
  if (!local) throw new Error("needs the local control plane");
  const encoded = kubectl(local.plane, "admin", [
    "get",
    "mutatingwebhookconfiguration",
    FULLNAME,
    "-o",
    "jsonpath={.webhooks[0].clientConfig.caBundle}",
  ]);
  return Buffer.from(encoded, "base64").toString("utf8");
}

function tlsSecretField(field: string): string {
  if (!local) throw new Error("needs the local control plane");
  const value = kubectl(local.plane, "admin", [
    "get",
    "secret",
    TLS_SECRET,
    "-n",
    NAMESPACE,
    "-o",
    `jsonpath={.data.${field.replaceAll(".", "\\.")}}`,
  ]);
  return Buffer.from(value, "base64").toString("utf8");
}

/**
 * helm install, then two replicas run from the production install as the chart's ServiceAccount
 * (its RBAC is what they get), and a served namespace with alice's store. Returns that namespace.
 */
async function installRelease(port: number): Promise<string> {
  if (!local) throw new Error("needs the local control plane");
  const install = helm(
    ["install", RELEASE, CHART, "-n", NAMESPACE, "--create-namespace", "-f", valuesFile(port)],
    helmEnv,
  );
  if (!install.ok) throw new Error(`helm install failed: ${install.stderr}`);
  const token = kubectl(local.plane, "admin", [
    "create",
    "token",
    FULLNAME,
    "-n",
    NAMESPACE,
    "--duration=1h",
  ]).trim();
  const kubeconfigFile = join(work, "sa.kubeconfig");
  writeFileSync(
    kubeconfigFile,
    `apiVersion: v1\nkind: Config\nclusters: [{name: local, cluster: {server: "${local.plane.server}", certificate-authority: "${local.plane.ca.certFile}"}}]\nusers: [{name: sa, user: {token: "${token}"}}]\ncontexts: [{name: sa, context: {cluster: local, user: sa}}]\ncurrent-context: sa\n`,
  );
  await startReplica("chart-replica-1", kubeconfigFile, port);
  await startReplica("chart-replica-2", kubeconfigFile, await freePort());
  const served = await freshNamespace("chart-served", { served: false });
  await api("admin").patchNamespace({
    name: served,
    body: [{ op: "add", path: `/metadata/labels/${SERVED_LABEL}`, value: "enabled" }],
  });
  await putStore(served, "alice", ["db_password"]);
  return served;
}

/** Stops (SIGSTOP) or resumes (SIGCONT) every replica: while stopped, none reconciles certificates. */
function pauseReplicas(signal: "SIGSTOP" | "SIGCONT"): void {
  for (const replica of replicas) process.kill(-replica.managed.pid, signal);
}

describe.runIf(local !== undefined)("the Helm chart on the API server", () => {
  beforeAll(async () => {
    if (!local) return;
    work = mkdtempSync(join(tmpdir(), "apolo-chart-"));
    helmEnv = {
      ...process.env,
      KUBECONFIG: local.plane.kubeconfigs.admin,
      HELM_CACHE_HOME: join(work, "cache"),
      HELM_CONFIG_HOME: join(work, "config"),
      HELM_DATA_HOME: join(work, "data"),
    };
    kubectl(local.plane, "admin", ["apply", "-f", join(import.meta.dirname, "fixtures/crds.yaml")]);
    installDir = productionInstall();
    port = await freePort();
    servedNs = await installRelease(port);
  }, 240_000);

  afterAll(async () => {
    if (!local) return;
    for (const replica of replicas) await stopProcess(local.plane.pidFile, replica.name);
    // Leave no webhook configuration behind that could intercept later tests.
    helm(["uninstall", RELEASE, "-n", NAMESPACE], helmEnv);
    rmSync(work, { recursive: true, force: true });
    if (installDir) rmSync(installDir, { recursive: true, force: true });
  });

  it("renders objects the API server accepts, for every option combination", async () => {
    if (!local) return;
    const combos = [
      [],
      [
        "webhook.scope=project",
        "webhook.trustedUsers={system:serviceaccount:platform:api}",
        "webhook.namespaces={chart-a,chart-b}",
        "api.enabled=true",
        "api.namespace=chart-a",
      ],
      [
        "certificates.mode=cert-manager",
        "metrics.serviceMonitor.enabled=true",
        "networkPolicy.enabled=true",
        "networkPolicy.apiServerCidrs={10.0.0.1/32}",
      ],
      ["webhook.clientAuth.enabled=true", "webhook.clientAuth.caConfigMap=apiserver-webhook-client-ca"],
    ];
    for (const [i, values] of combos.entries()) {
      const namespace = await freshNamespace(`chart-render-${i}`, { served: false });
      for (const ns of ["chart-a", "chart-b"]) await freshNamespace(ns, { name: ns, served: false });
      const manifests = renderedManifests(values, namespace, `r${i}`);
      const list = JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests });
      // Server-side dry run: full validation and admission, nothing stored (these webhooks point nowhere).
      const out = kubectl(local.plane, "admin", ["apply", "--dry-run=server", "-f", "-"], list);
      for (const m of manifests) expect(out).toContain(`${m.metadata.name}`);
      expect(out.split("\n").filter((l) => l.includes("(server dry run)")).length).toBe(manifests.length);
    }
  });

  it("drives real admissions through the chart's webhook configuration, installed with helm", async () => {
    if (!local) return;
    expect(caBundle()).toContain("BEGIN CERTIFICATE");
    expect(
      await admittedSecretRef(servedNs, "alice", "db_password", "an admission through the chart's webhook"),
    ).toEqual({
      name: storeName("alice"),
      key: "db_password",
    });
  });

  it("keeps certificates and the caBundle across helm upgrade", async () => {
    if (!local) return;
    // The replicas rotate on their own schedule; paused, nothing but the upgrade can change these.
    pauseReplicas("SIGSTOP");
    try {
      const bundleBefore = caBundle();
      const caBefore = tlsSecretField("ca-signing.crt");
      const certBefore = tlsSecretField("tls.crt");
      const upgrade = helm(
        [
          "upgrade",
          RELEASE,
          CHART,
          "-n",
          NAMESPACE,
          "-f",
          valuesFile(port),
          "--set",
          "webhook.logLevel=debug",
        ],
        helmEnv,
      );
      expect(upgrade.ok, upgrade.stderr).toBe(true);
      expect(caBundle()).toContain("BEGIN CERTIFICATE");
      expect(caBundle()).toBe(bundleBefore);
      expect(tlsSecretField("ca-signing.crt")).toBe(caBefore);
      expect(tlsSecretField("tls.crt")).toBe(certBefore);
    } finally {
      pauseReplicas("SIGCONT");
    }
    expect(helm(["get", "manifest", RELEASE, "-n", NAMESPACE], helmEnv).stdout).not.toContain(
      `name: ${TLS_SECRET}\n`,
    );
    const created = await createPod(
      "platform",
      servedNs,
      jobPod({ owner: "alice", env: { DB: "secret:db_password" } }),
    );
    expect(created.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef?.key).toBe("db_password");
  });

  it("rotates the serving certificate and the CA under load without a failed admission", {
    timeout: 240_000,
  }, async () => {
    if (!local) return;
    // Load runs until the rotations were seen (events, not a time window): two more serving
    // certificates, a second CA, two reloads by the first replica. The bound only ends a hang.
    const bound = Date.now() + 200_000;
    const seenCas = new Set<string>([tlsSecretField("ca-signing.crt")]);
    const seenCerts = new Set<string>([tlsSecretField("tls.crt")]);
    let through = 0;
    let direct = 0;
    const failures: string[] = [];
    const reloads = () =>
      metricValue(
        replicas[0]?.metricsPort ?? 0,
        "apolo_secrets_webhook_tls_reloads_total",
        'result="loaded"',
      );
    const loadsBefore = await reloads();
    let rotated = false;
    const running = () => !rotated && Date.now() < bound;
    const watcher = (async () => {
      while (running()) {
        seenCas.add(tlsSecretField("ca-signing.crt"));
        seenCerts.add(tlsSecretField("tls.crt"));
        rotated = seenCerts.size >= 3 && seenCas.size >= 2 && (await reloads()) - loadsBefore >= 2;
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const admitThroughApiServer = async () => {
      try {
        const pod = await createPod(
          "platform",
          servedNs,
          jobPod({ owner: "alice", env: { DB: "secret:db_password" } }),
          { dryRun: true },
        );
        if (pod.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef?.key !== "db_password")
          failures.push("not mutated");
        through++;
      } catch (error) {
        failures.push(String(error).slice(0, 300));
      }
    };
    // Straight to the second replica, trusting exactly the bundle the API server has now.
    const callSecondReplica = async (i: number) => {
      const replica = replicas[1];
      if (!replica) throw new Error("no second replica");
      const agent = new Agent({ keepAlive: false });
      try {
        const answer = await postJson(
          `https://127.0.0.1:${replica.port}/mutate`,
          reviewFor({ metadata: {}, spec: { containers: [{ name: "c" }] } }, `direct-${i}`, {
            username: "x",
            groups: [],
          }),
          { ca: caBundle(), agent },
        );
        if (answer.status !== 200) failures.push(`replica 2 answered ${answer.status}`);
        direct++;
      } catch (error) {
        failures.push(`replica 2: ${String(error).slice(0, 200)}`);
      } finally {
        agent.destroy();
      }
    };
    const throughApiServer = async () => {
      while (running()) await admitThroughApiServer();
    };
    const toSecondReplica = async () => {
      for (let i = 0; running(); i++) {
        await callSecondReplica(i);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await Promise.all([watcher, throughApiServer(), throughApiServer(), toSecondReplica()]);
    expect(rotated, `rotations seen: ${seenCerts.size} certificates, ${seenCas.size} CAs`).toBe(true);
    // And after the last rotation seen, both paths still answer.
    await admitThroughApiServer();
    await callSecondReplica(-1);
    expect(failures).toEqual([]);
    expect(through).toBeGreaterThan(0);
    expect(direct).toBeGreaterThan(0);
    process.stdout.write(
      `[chart] rotation under load: ${through} admissions through the API server, ${direct} direct, ${seenCerts.size} serving certificates, ${seenCas.size} CAs, 0 failures\n`,
    );
  });
});
