// What the README promises of a running webhook, checked on real webhook processes against the
// real API server: readiness before the certificate and before the cache sync, --namespaces, the
// live lookup of a secret the cache has never seen, its timeout, full references without a
// cluster name, the older project labels, and every metric and log field the README lists.
// Each test starts the webhook it needs (the suite's own is left alone) and waits on events.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject, PodOut } from "../cases/cases.js";
import { kubectl, USERS, userKubeconfig } from "../cluster/control-plane.js";
import { type Managed, signalProcess, stopProcess, waitFor } from "../cluster/processes.js";
import { launchWebhook, registerForLabel, type WebhookProcess, waitUntilCalled } from "../cluster/webhook.js";
import { issueCert } from "../support/certs.js";
import { postJson } from "../support/https-client.js";
import { applyPatch, reviewFor } from "../support/replay.js";
import {
  api,
  createPod,
  e2e,
  freshNamespace,
  jobPod,
  metricValue,
  putStore,
  readPod,
  refusal,
  storeName,
} from "./support.js";

const local = e2e().local;
const PREFIX = "apolo_secrets_webhook_";
const PLATFORM = { username: USERS.platform.name, groups: [...USERS.platform.groups] };
const README = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");

function plane() {
  if (!local) throw new Error("needs the local control plane");
  return local.plane;
}

const suffix = () => randomBytes(3).toString("hex");

/** A webhook's answer to a review posted straight to it (as the API server would, with its client certificate). */
async function answerOf(webhook: WebhookProcess, review: JsonObject) {
  const answer = await postJson(webhook.url, review, { ca: plane().ca.pem, ...webhook.client });
  expect(answer.status).toBe(200);
  const response = (
    answer.body as {
      response: { allowed: boolean; status?: { code?: number; message?: string }; patch?: string };
    }
  ).response;
  return {
    allowed: response.allowed,
    code: response.status?.code,
    message: response.status?.message ?? "",
    patch: response.patch ? Buffer.from(response.patch, "base64").toString() : "",
  };
}

/** The webhook's JSON log lines for the admission with this uid. */
function admissionLogLine(managed: Managed, uid: string): Record<string, unknown> | undefined {
  for (const line of readFileSync(managed.logFile, "utf8").split("\n")) {
    if (!line.includes(`"uid":"${uid}"`)) continue;
    return JSON.parse(line) as Record<string, unknown>;
  }
  return undefined;
}

/** A webhook whose metrics port answers (ready or not): for tests of what "not ready" means. */
async function metricsAnswer(webhook: WebhookProcess): Promise<void> {
  await waitFor(
    "the webhook's metrics port",
    async () =>
      (await fetch(`http://127.0.0.1:${webhook.metricsPort}/healthz`)
        .then((r) => r.status)
        .catch(() => 0)) === 200
        ? true
        : undefined,
    30_000,
    100,
  );
}

const readyz = (webhook: WebhookProcess) =>
  fetch(`http://127.0.0.1:${webhook.metricsPort}/readyz`).then(async (r) => ({
    status: r.status,
    text: await r.text(),
  }));

describe.runIf(local !== undefined)("a webhook with --namespaces and no cluster name", () => {
  // watched: the one namespace in --namespaces; unwatched: stores the cache never lists;
  // served: pods there reach this webhook (its own registration from the chart), stores too.
  let watched: string;
  let unwatched: string;
  let served: string;
  let webhook: WebhookProcess;
  let managed: Managed;
  const name = `webhook-doc-${suffix()}`;
  const label = `e2e-doc-${suffix()}`;
  const release = `e2e-doc-${suffix()}`;

  beforeAll(async () => {
    watched = await freshNamespace("e2e-doc-watched", { served: false });
    unwatched = await freshNamespace("e2e-doc-unwatched", { served: false });
    served = await freshNamespace("e2e-doc-served", { served: false });
    await api("admin").patchNamespace({
      name: served,
      body: [{ op: "add", path: `/metadata/labels/${label}`, value: "enabled" }],
    });
    await putStore(watched, "carol", ["a", "b"]);
    await putStore(unwatched, "dave", ["x"]);
    ({ webhook, managed } = await launchWebhook(plane(), name, {
      adjust: (w) => {
        w.args = w.args
          .filter((a) => !a.startsWith("--cluster-name="))
          .concat([`--namespaces=${watched}`, "--lookup-timeout-ms=1000"]);
      },
    }));
    registerForLabel(plane(), webhook.url, label, release);
    await waitUntilCalled(plane(), served);
  });

  afterAll(async () => {
    if (!local) return;
    kubectl(plane(), "admin", ["delete", "mutatingwebhookconfiguration", release, "--ignore-not-found"]);
    await stopProcess(plane().pidFile, name);
  });

  it("caches the stores of the --namespaces namespaces only", async () => {
    // Its own webhook: the shared one also caches stores it looked up live.
    const only = `webhook-namespaces-${suffix()}`;
    const started = await launchWebhook(plane(), only, {
      adjust: (w) => {
        w.args = w.args.concat(`--namespaces=${watched}`);
      },
    });
    try {
      // Ready means every watched namespace was listed; the unwatched store existed before that.
      const port = started.webhook.metricsPort;
      expect(await metricValue(port, `${PREFIX}store_cache_synced`)).toBe(1);
      expect(await metricValue(port, `${PREFIX}store_cache_stores`)).toBe(1);
      expect(await metricValue(port, `${PREFIX}store_cache_keys`)).toBe(2);
    } finally {
      await stopProcess(plane().pidFile, only);
    }
  });

  it("admits a secret added a moment ago that the cache never saw, through the live lookup", async () => {
    // The store is outside --namespaces: no watch can bring it in, only the live lookup.
    const owner = `erin-${suffix()}`;
    await putStore(served, owner, ["fresh"]);
    const found = `${PREFIX}live_lookups_total`;
    const before = await metricValue(webhook.metricsPort, found, 'result="found"');
    const created = await createPod("platform", served, jobPod({ owner, env: { F: "secret:fresh" } }));
    expect((await readPod(served, created.metadata?.name as string)).spec?.containers[0]?.env?.[0]).toEqual({
      name: "F",
      valueFrom: { secretKeyRef: { name: storeName(owner), key: "fresh" } },
    });
    expect(await metricValue(webhook.metricsPort, found, 'result="found"')).toBe(before + 1);
  });

  it("refuses a full secret:// reference when no cluster name is configured, and says what to write", async () => {
    const owner = `frank-${suffix()}`;
    await putStore(served, owner, ["k"]);
    const answer = await refusal(
      createPod(
        "platform",
        served,
        jobPod({ owner, env: { K: `secret://${e2e().clusterName}/${owner}/k` } }),
      ),
    );
    expect(answer.code).toBe(422);
    expect(answer.message).toContain(
      `names cluster '${e2e().clusterName}', but this webhook has no cluster name configured: write secret:KEY`,
    );
    const short = await createPod("platform", served, jobPod({ owner, env: { K: "secret:k" } }));
    expect(short.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef?.name).toBe(storeName(owner));
  });

  it("bounds the live lookup by --lookup-timeout-ms: with the API server stopped, the miss is refused as missing and counted as a timeout", async () => {
    const uid = `timeout-${suffix()}`;
    // A store of its own in the unwatched namespace: only a live lookup can know it.
    const owner = `gina-${suffix()}`;
    await putStore(unwatched, owner, ["x"]);
    const ownReview = (id: string) =>
      reviewFor(jobPod({ owner, env: { X: "secret:x" } }) as unknown as JsonObject, id, PLATFORM, unwatched);
    const review = ownReview(uid);
    const timeouts = () =>
      metricValue(webhook.metricsPort, `${PREFIX}live_lookups_total`, 'result="timeout"');
    const before = await timeouts();
    // Stopped, not killed: connections are accepted by the kernel and never answered.
    signalProcess(plane().pidFile, "kube-apiserver", "SIGSTOP");
    let answer: Awaited<ReturnType<typeof answerOf>>;
    try {
      answer = await answerOf(webhook, review);
    } finally {
      signalProcess(plane().pidFile, "kube-apiserver", "SIGCONT");
    }
    expect(answer).toMatchObject({ allowed: false, code: 422, message: "Missing secrets: 'x'" });
    expect(await timeouts()).toBe(before + 1);
    const logged = await waitFor(
      "the admission's log line",
      async () => admissionLogLine(managed, uid),
      10_000,
    );
    expect(logged).toMatchObject({ liveLookup: "timeout", decision: "denied", code: 422 });
    // Once the API server answers again, the same lookup finds the store.
    expect((await answerOf(webhook, ownReview(`${uid}-after`))).allowed).toBe(true);
  });

  it("exports every metric and logs every admission field the README lists", async () => {
    const uid = `fields-${suffix()}`;
    // Optional fields are logged when they apply: a dry run refused (code) after a live lookup
    // (the store is outside --namespaces) gives every field a value.
    const owner = `hana-${suffix()}`;
    await putStore(unwatched, owner, ["x"]);
    const review = reviewFor(
      jobPod({ owner, env: { X: "secret:x", Y: "secret:absent" } }) as unknown as JsonObject,
      uid,
      PLATFORM,
      unwatched,
    );
    (review.request as { dryRun: boolean }).dryRun = true;
    const answer = await answerOf(webhook, review);
    expect(answer).toMatchObject({ allowed: false, code: 422, message: "Missing secrets: 'absent'" });
    const endpoints = README.slice(README.indexOf("**Endpoints.**"), README.indexOf("**Logs.**"));
    const listed = new Set<string>();
    for (const match of endpoints.matchAll(/`(apolo_secrets_webhook_|…_)([a-z_]+)/g))
      listed.add(`${PREFIX}${match[2]}`);
    expect(listed.size, "metrics named in the README's Endpoints paragraph").toBeGreaterThanOrEqual(10);
    const text = await fetch(`http://127.0.0.1:${webhook.metricsPort}/metrics`).then((r) => r.text());
    const missing = [...listed].filter((metric) => !text.includes(`# TYPE ${metric} `));
    expect(missing).toEqual([]);

    const logs = README.slice(README.indexOf("**Logs.**"), README.indexOf("**Shutdown.**"));
    const fields = [...logs.slice(0, logs.indexOf("Never")).matchAll(/`([a-zA-Z]+)`/g)].map((m) => m[1]);
    expect(fields.length, "fields named in the README's Logs paragraph").toBeGreaterThanOrEqual(10);
    const line = await waitFor(
      "the admission's log line",
      async () => admissionLogLine(managed, uid),
      10_000,
    );
    // subResource appears only for a subresource (pods/ephemeralcontainers), workload only for a
    // workload's template (test/e2e/workloads.test.ts), as the README says.
    const expected = fields.filter((field) => field !== "subResource" && field !== "workload");
    expect(expected.filter((field) => !(field !== undefined && field in line))).toEqual([]);
    expect(line).toMatchObject({
      uid,
      namespace: unwatched,
      owner,
      liveLookup: "found",
      dryRun: true,
      code: 422,
    });
  });
});

describe.runIf(local !== undefined)("readiness on the metrics port", () => {
  it("answers /readyz 503 until the --tls-secret Secret exists, then 200 with HTTPS serving", async () => {
    const ns = await freshNamespace("e2e-tls-secret", { served: false });
    const secret = `serving-${suffix()}`;
    const name = `webhook-tls-secret-${suffix()}`;
    const { webhook } = await launchWebhook(plane(), name, {
      adjust: (w) => {
        w.args = w.args
          .filter((a) => !/^--tls-(cert|key)-file=/.test(a))
          .concat(`--tls-secret=${ns}/${secret}`);
      },
      ready: (w) => metricsAnswer(w),
    });
    try {
      const before = await readyz(webhook);
      expect(before.status).toBe(503);
      expect(before.text).toContain("certificate");
      // Until then the HTTPS port does not listen.
      await expect(postJson(webhook.url, {}, { ca: plane().ca.pem, ...webhook.client })).rejects.toThrow(
        /ECONNREFUSED/,
      );

      const cert = issueCert(plane().ca, {
        name: secret,
        commonName: "webhook",
        ips: ["127.0.0.1"],
        usage: "server",
      });
      await api("admin").createNamespacedSecret({
        namespace: ns,
        body: {
          metadata: { name: secret },
          type: "kubernetes.io/tls",
          data: {
            "tls.crt": readFileSync(cert.certFile).toString("base64"),
            "tls.key": readFileSync(cert.keyFile).toString("base64"),
          },
        },
      });
      await waitFor(
        "ready once the Secret exists",
        async () => ((await readyz(webhook)).status === 200 ? true : undefined),
        30_000,
        100,
      );
      const review = reviewFor(
        { metadata: {}, spec: { containers: [{ name: "c" }] } },
        "tls-secret",
        PLATFORM,
        ns,
      );
      expect((await postJson(webhook.url, review, { ca: plane().ca.pem, ...webhook.client })).status).toBe(
        200,
      );
    } finally {
      await stopProcess(plane().pidFile, name);
    }
  });

  it("answers /readyz 503 while the store cache cannot list Secrets, and 200 once its user may", async () => {
    const user = `e2e-unprivileged-${suffix()}`;
    const name = `webhook-norbac-${suffix()}`;
    const kubeconfig = userKubeconfig(plane(), user);
    const { webhook, managed } = await launchWebhook(plane(), name, {
      adjust: (w) => {
        w.args = w.args.filter((a) => !a.startsWith("--kubeconfig=")).concat(`--kubeconfig=${kubeconfig}`);
      },
      ready: (w) => metricsAnswer(w),
    });
    try {
      // The event: the cache's list was refused (logged), so it has not synced.
      await waitFor(
        "the refused list in the webhook's log",
        async () => (readFileSync(managed.logFile, "utf8").includes("store watch failed") ? true : undefined),
        30_000,
      );
      const before = await readyz(webhook);
      expect(before.status).toBe(503);
      expect(before.text).toContain("store cache");
      expect(await metricValue(webhook.metricsPort, `${PREFIX}store_cache_synced`)).toBe(0);

      kubectl(plane(), "admin", [
        "create",
        "clusterrolebinding",
        `${user}-reads-stores`,
        "--clusterrole=e2e-secrets-webhook-reader",
        `--user=${user}`,
      ]);
      await waitFor(
        "ready once the user may list",
        async () => ((await readyz(webhook)).status === 200 ? true : undefined),
        60_000,
        200,
      );
      expect(await metricValue(webhook.metricsPort, `${PREFIX}store_cache_synced`)).toBe(1);
    } finally {
      await stopProcess(plane().pidFile, name);
      kubectl(plane(), "admin", [
        "delete",
        "clusterrolebinding",
        `${user}-reads-stores`,
        "--ignore-not-found",
      ]);
    }
  });
});

describe.runIf(local !== undefined)("the project scope", () => {
  it("takes the owner from the older platform.neuromation.io/org and /project labels", async () => {
    const ns = await freshNamespace("e2e-project", { served: false });
    const store = "project--acme--vision--secrets";
    await api("admin").createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: { name: store, labels: { "platform.apolo.us/secrets-store": "true" } },
        type: "Opaque",
        data: { k1: Buffer.from("v").toString("base64") },
      },
    });
    const name = `webhook-project-${suffix()}`;
    const { webhook } = await launchWebhook(plane(), name, {
      adjust: (w) => {
        w.args = w.args.concat("--scope=project", `--namespaces=${ns}`);
      },
    });
    try {
      const pod = {
        metadata: {
          name: "job",
          labels: { "platform.neuromation.io/org": "acme", "platform.neuromation.io/project": "vision" },
        },
        spec: { containers: [{ name: "c", image: "i", env: [{ name: "A", value: "secret:k1" }] }] },
      };
      const answer = await answerOf(webhook, reviewFor(pod, `project-${suffix()}`, PLATFORM, ns));
      expect(answer.allowed, answer.message).toBe(true);
      const patched = applyPatch(pod, JSON.parse(answer.patch)) as unknown as PodOut;
      expect(patched.spec.containers[0]?.env?.[0]).toEqual({
        name: "A",
        valueFrom: { secretKeyRef: { name: store, key: "k1" } },
      });
    } finally {
      await stopProcess(plane().pidFile, name);
    }
  });
});

describe.runIf(local !== undefined)("the harness's ports", () => {
  // The HTTPS port's bind failure ends the process; the metrics port's is reported while the
  // process keeps running (its store cache loops hold it up), so the harness reads the output.
  for (const flag of ["port", "metrics-port"] as const) {
    it(`starts a webhook again on new ports when its --${flag} was taken before it could bind`, async () => {
      // The race freePort leaves open, made certain: the first port handed over is already taken.
      const squatter = createServer();
      const taken = await new Promise<number>((resolve) =>
        squatter.listen(0, "127.0.0.1", () => resolve((squatter.address() as AddressInfo).port)),
      );
      const name = `webhook-port-${suffix()}`;
      let attempts = 0;
      try {
        const { webhook } = await launchWebhook(plane(), name, {
          adjust: (w) => {
            if (attempts++ > 0) return;
            w.args = w.args.filter((a) => !a.startsWith(`--${flag}=`)).concat(`--${flag}=${taken}`);
            if (flag === "port") w.port = taken;
            else w.metricsPort = taken;
          },
        });
        expect(attempts).toBe(2);
        expect([webhook.port, webhook.metricsPort]).not.toContain(taken);
        expect((await readyz(webhook)).status).toBe(200);
      } finally {
        squatter.close();
        await stopProcess(plane().pidFile, name);
      }
    });
  }
});
