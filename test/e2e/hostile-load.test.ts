// Holes an attacker review found (issue 9), shown through the real API server. Each test fails on
// the code it was written against and says what a fix must make true.
//
// - planMounts builds one mount per (file entry x target container). Without
// `containers`, an entry targets every regular container, so a pod of N entries and C containers
// makes N*C mounts (plus N*C path-map entries) before anything is checked against size. A 118 KB
// pod (2,000 entries, 2,000 containers), created with --dry-run=server by any user who may create
// pods labelled as themself, kills the webhook with the chart's heap settings (OOM), and every pod
// creation in the served namespaces fails closed until it restarts (and the next such pod kills it
// again).
//
// - the in-flight body budget is reserved from the declared Content-Length before a byte
// arrives and held until the request ends (requestTimeout 60 s). With client authentication off
// (the chart's default, and no NetworkPolicy by default) anyone who can reach the webhook port,
// e.g. a job pod, holds the whole 16 MiB budget with three idle connections (7 MiB, 7 MiB, 2 MiB
// declared, one byte sent): every review then gets 429 and every pod creation fails closed.
//
// - the secrets API has no cap on bodies in flight (the webhook got one): 60 parallel
// authenticated POSTs of a 900 KiB value took the process from 81 MB to 413 MB of RSS (120: 1.1 GB),
// over the chart's 256Mi limit for the API container; any platform user can have it OOM-killed.
//
// - neither HTTPS port caps connections, and a connection that has sent part of its
// headers is kept for headersTimeout (keep-alive + 5 s = 125 s). With client authentication off
// (the chart's default) 4,000 idle TLS connections took the webhook from 83 to 318 MB of RSS, over
// the chart's 256Mi limit (the secrets API, which users must reach: +154 MB). With client
// authentication on, unfinished handshakes cost about 12 KB each for 120 s (4,000: +48 MB).
//
// - for UPDATE of pods/ephemeralcontainers the webhook reads the owner, the volumes and
// the regular containers from request.object, which is the object the user sent. The API server
// keeps only its ephemeralContainers (PrepareForUpdate runs after admission) and restores the
// stored labels and spec. So a user allowed to add debug containers sends bob's pod relabelled
// as their own with bob's volumes and env stripped: the webhook admits it (owner 'alice'), and
// the stored pod (still bob's) gets alice's ephemeral container mounting bob's secret volume.
// The honest request (bob's labels) is refused as a forged owner.

import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { connect } from "node:tls";
import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { find, render } from "../chart/helm.js";
import { kubectl } from "../cluster/control-plane.js";
import { stopProcess, waitFor } from "../cluster/processes.js";
import { postSecretStatus, startSecretsApi, userToken } from "../cluster/secrets-api.js";
import {
  prepareWebhook,
  startWebhook,
  waitForWebhookReady,
  webhookConfiguration,
} from "../cluster/webhook.js";
import { postJson } from "../support/https-client.js";
import { aliceJobReview } from "../support/review.js";
import {
  api,
  createPod,
  e2e,
  freshNamespace,
  jobPod,
  putStore,
  readPod,
  refusal,
  storeName,
} from "./support.js";

const local = e2e().local;
const LABEL = "attack-findings.apolo.us/served";
const CONFIGURATION = "attack-findings";

/** The chart's NODE_OPTIONS for the webhook container. */
function chartNodeOptions(): string {
  const deployment = find(render(), "Deployment").spec as {
    template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } };
  };
  const env = deployment.template.spec.containers[0]?.env ?? [];
  return env.find((e) => e.name === "NODE_OPTIONS")?.value ?? "";
}

/** The chart's NODE_OPTIONS for the secrets API container. */
function chartApiNodeOptions(): string {
  const manifests = render(["api.enabled=true", "api.namespace=platform-jobs"]);
  const deployment = find(manifests, "Deployment", "asw-apolo-secrets-webhook-api").spec as {
    template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } };
  };
  const env = deployment.template.spec.containers[0]?.env ?? [];
  return env.find((e) => e.name === "NODE_OPTIONS")?.value ?? "";
}

function client(who: "alice"): CoreV1Api {
  if (!local) throw new Error("local only");
  const kc = new KubeConfig();
  kc.loadFromFile(local.plane.kubeconfigs[who]);
  return kc.makeApiClient(CoreV1Api);
}

function alicePod(name: string, files: string[], containers: number): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      labels: { "platform.apolo.us/user": "alice" },
      annotations: { "platform.apolo.us/secret-volumes": JSON.stringify(files) },
    },
    spec: {
      automountServiceAccountToken: false,
      restartPolicy: "Never",
      containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, image: "x" })),
    },
  };
}

describe.runIf(local !== undefined)("hostile load (local control plane)", () => {
  it("a 118 KB pod of 2,000 file entries and 2,000 containers does not kill the webhook", async () => {
    if (!local) throw new Error("unreachable");
    // A webhook of our own (the chart's heap settings), registered for namespaces with LABEL only,
    // so a crash here does not disturb the suite's webhook.
    const webhook = await prepareWebhook(local.plane, "webhook-attack", { clientAuth: false });
    webhook.env = { ...webhook.env, NODE_OPTIONS: chartNodeOptions() };
    const managed = startWebhook(local.plane, webhook, "webhook-attack");
    let exited = false;
    void managed.exited.then(() => {
      exited = true;
    });
    const configuration = JSON.parse(webhookConfiguration(webhook.url, local.plane.ca.pem)) as {
      metadata: { name: string };
      webhooks: Array<{ name: string; namespaceSelector: unknown }>;
    };
    configuration.metadata.name = CONFIGURATION;
    for (const hook of configuration.webhooks) {
      hook.name = "attack-findings.apolo.us";
      hook.namespaceSelector = { matchLabels: { [LABEL]: "true" } };
    }
    try {
      await waitForWebhookReady(webhook, managed);
      kubectl(local.plane, "admin", ["apply", "-f", "-"], JSON.stringify(configuration));
      const ns = await freshNamespace("e2e-attack", { served: false });
      kubectl(local.plane, "admin", ["label", "namespace", ns, `${LABEL}=true`]);
      await putStore(ns, "alice", ["k"]);
      const normal = () =>
        client("alice").createNamespacedPod({
          namespace: ns,
          body: alicePod(`normal-${Date.now().toString(36)}`, ["secret:k:/etc/k"], 1),
          dryRun: "All",
        });
      // The configuration reaches the API server after a short lag: wait for a mutated answer.
      const first = await waitFor(
        "the API server to call the attack webhook",
        async () => {
          const pod = await normal().catch(() => undefined);
          return pod?.spec?.volumes?.some((v) => v.secret?.secretName === storeName("alice"))
            ? pod
            : undefined;
        },
        30_000,
        300,
      );
      expect(first.spec?.containers[0]?.volumeMounts?.some((m) => m.subPath === "k")).toBe(true);

      const files = Array.from({ length: 2000 }, (_, i) => `secret:k:/s/${i}`);
      const hostile = alicePod("hostile", files, 2000);
      expect(JSON.stringify(hostile).length).toBeLessThan(120_000);
      // Any answer is fine (a refusal naming the size would be best); the webhook must survive it.
      await client("alice")
        .createNamespacedPod({ namespace: ns, body: hostile, dryRun: "All" })
        .catch((error: unknown) => {
          if (!(error instanceof ApiException)) throw error;
        });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(exited, "the webhook process died (see webhook-attack.log)").toBe(false);
      const after = await normal();
      expect(after.spec?.volumes?.some((v) => v.secret?.secretName === storeName("alice"))).toBe(true);
    } finally {
      try {
        kubectl(local.plane, "admin", [
          "delete",
          "mutatingwebhookconfiguration",
          CONFIGURATION,
          "--ignore-not-found",
        ]);
      } finally {
        await stopProcess(local.plane.pidFile, "webhook-attack");
      }
    }
  }, 120_000);
});

describe.runIf(local !== undefined)("hostile load: budget and memory (local control plane)", () => {
  it("three idle connections declaring large bodies do not lock every review out", async () => {
    if (!local) throw new Error("unreachable");
    // The chart's default: no client certificate required.
    const webhook = await prepareWebhook(local.plane, "webhook-attack-budget", { clientAuth: false });
    const managed = startWebhook(local.plane, webhook, "webhook-attack-budget");
    const sockets: ReturnType<typeof connect>[] = [];
    try {
      await waitForWebhookReady(webhook, managed);
      const ns = await freshNamespace("e2e-attack-budget");
      await putStore(ns, "alice", ["k"]);
      const normal = aliceJobReview("normal", ns);
      expect((await postJson(webhook.url, normal, { ca: local.plane.ca.pem })).status).toBe(200);
      for (const length of [7_340_032, 7_340_032, 2_097_152]) {
        const socket = connect({ host: "127.0.0.1", port: webhook.port, rejectUnauthorized: false });
        socket.on("error", () => {});
        socket.write(
          `POST /mutate HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{`,
        );
        sockets.push(socket);
      }
      await waitFor(
        "the idle requests to be read",
        async () =>
          (await fetch(`http://127.0.0.1:${webhook.metricsPort}/metrics`).then((r) => r.text())).includes(
            "apolo_secrets_webhook_inflight_body_bytes 0",
          )
            ? undefined
            : true,
        10_000,
        50,
      );
      const answer = await postJson(webhook.url, normal, { ca: local.plane.ca.pem });
      expect(answer.status, answer.text).toBe(200);
    } finally {
      for (const socket of sockets) socket.destroy();
      await stopProcess(local.plane.pidFile, "webhook-attack-budget");
    }
  }, 60_000);

  it("60 parallel authenticated 900 KiB adds keep the secrets API under the chart's 256Mi", async () => {
    if (!local) throw new Error("unreachable");
    const ns = await freshNamespace("e2e-attack-api");
    // The chart's settings: its heap limit, and the default bodies-in-flight cap of the binary.
    const nodeOptions = chartApiNodeOptions();
    expect(nodeOptions).toContain("--max-old-space-size=");
    const api = await startSecretsApi(local.plane, ns, { ...process.env, NODE_OPTIONS: nodeOptions });
    const agent = new Agent({ keepAlive: true, maxSockets: 100, ca: readFileSync(api.caFile) });
    try {
      const token = userToken(local.plane, "alice");
      const value = Buffer.alloc(900 * 1024, 7).toString("base64");
      const post = (i: number) => postSecretStatus(api.url, agent, token, `big${i}`, value);
      const statuses = await Promise.all(Array.from({ length: 60 }, (_, i) => post(i)));
      const status = readFileSync(`/proc/${api.managed.pid}/status`, "utf8");
      const peak = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]) * 1024;
      process.stdout.write(
        `[hostile-load] secrets API peak RSS ${(peak / 1e6).toFixed(0)} MB; ${JSON.stringify(statuses.slice(0, 5))}\n`,
      );
      // Every request answered (added, too large, or refused for now), and the process stays
      // under the chart's limit (charts/.../values.yaml api.resources.limits.memory: 256Mi).
      expect(
        statuses.every((s) => s === 201 || s === 413 || s === 429),
        JSON.stringify(statuses),
      ).toBe(true);
      expect(peak).toBeLessThan(256 * 1024 * 1024);
    } finally {
      agent.destroy();
      await stopProcess(local.plane.pidFile, "secrets-api");
    }
  }, 120_000);
});

describe("hostile input: the ephemeral-containers subresource", () => {
  it("a user cannot add an ephemeral container mounting another owner's secret volume by relabelling the sent pod", async () => {
    const ns = await freshNamespace("e2e-attack-ephemeral");
    await putStore(ns, "bob", ["db_password"]);
    const created = await createPod(
      "platform",
      ns,
      jobPod({ owner: "bob", env: { DB: "secret:db_password" }, files: ["secret:db_password:/s/db"] }),
    );
    const name = created.metadata?.name as string;
    const stored = await readPod(ns, name);
    const volume = stored.spec?.volumes?.find((v) => v.secret?.secretName === storeName("bob"))?.name;
    expect(volume).toBeDefined();
    const debug = {
      name: "debug",
      image: "busybox",
      volumeMounts: [{ name: volume as string, mountPath: "/x" }],
    };

    // The honest request is refused: alice may not act on bob's pod.
    const honest = {
      ...stored,
      spec: { ...stored.spec, containers: stored.spec?.containers ?? [], ephemeralContainers: [debug] },
    };
    const answer = await refusal(
      api("alice").replaceNamespacedPodEphemeralcontainers({ name, namespace: ns, body: honest }),
    );
    expect(answer.code).toBe(403);

    // The same container, sent with the pod relabelled as alice's and bob's store uses removed.
    const doctored = {
      ...stored,
      metadata: { ...stored.metadata, labels: { "platform.apolo.us/user": "alice" } },
      spec: {
        ...stored.spec,
        volumes: [],
        containers: (stored.spec?.containers ?? []).map((c) => ({ ...c, env: [], volumeMounts: [] })),
        ephemeralContainers: [debug],
      },
    };
    const outcome = await api("alice")
      .replaceNamespacedPodEphemeralcontainers({ name, namespace: ns, body: doctored })
      .then(
        () => "admitted",
        (error: unknown) => (error instanceof ApiException ? `refused ${error.code}` : String(error)),
      );
    const after = await readPod(ns, name);
    expect(after.metadata?.labels?.["platform.apolo.us/user"]).toBe("bob");
    const mounted = (after.spec?.ephemeralContainers ?? []).some((c) =>
      (c.volumeMounts ?? []).some((m) => m.name === volume),
    );
    expect({ outcome, mounted }).toEqual({ outcome: "refused 403", mounted: false });
  });
});

describe.runIf(local !== undefined)("hostile load: connections (local control plane)", () => {
  it("4,000 idle TLS connections keep the webhook (chart settings) under its 256Mi limit", async () => {
    if (!local) throw new Error("unreachable");
    const webhook = await prepareWebhook(local.plane, "webhook-attack-conns", { clientAuth: false });
    webhook.env = { ...webhook.env, NODE_OPTIONS: chartNodeOptions() };
    const managed = startWebhook(local.plane, webhook, "webhook-attack-conns");
    const sockets: ReturnType<typeof connect>[] = [];
    let closedByServer = 0;
    try {
      await waitForWebhookReady(webhook, managed);
      // 4,000 connections against the default cap (--max-connections 1000): those beyond it are
      // closed by the server at once.
      await Promise.all(
        Array.from(
          { length: 4000 },
          () =>
            new Promise<void>((resolve) => {
              const socket = connect(
                { host: "127.0.0.1", port: webhook.port, rejectUnauthorized: false },
                () => {
                  socket.write("POST /mutate HTTP/1.1\r\nHost: webhook\r\n");
                  resolve();
                },
              );
              socket.on("error", () => resolve());
              socket.on("close", () => {
                closedByServer++;
              });
              sockets.push(socket);
            }),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const status = readFileSync(`/proc/${managed.pid}/status`, "utf8");
      const rss = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) * 1024;
      process.stdout.write(
        `[hostile-load] webhook RSS with 4000 idle connections: ${(rss / 1e6).toFixed(0)} MB\n`,
      );
      process.stdout.write(`[hostile-load] connections closed by the server: ${closedByServer}\n`);
      expect(closedByServer).toBeGreaterThanOrEqual(3000);
      expect(rss).toBeLessThan(256 * 1024 * 1024);
    } finally {
      for (const socket of sockets) socket.destroy();
      await stopProcess(local.plane.pidFile, "webhook-attack-conns");
    }
  }, 120_000);
});
