// Failures the webhook must survive: its own process killed mid-suite (admissions fail closed,
// then recover without touching the API server) and an API server restart (the cache reconnects).
// These need the local control plane: processes of an external cluster are not ours to kill.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { restartApiserver } from "../cluster/control-plane.js";
import { stopProcess, waitFor } from "../cluster/processes.js";
import { launchWebhook, startWebhook, waitForWebhookReady } from "../cluster/webhook.js";
import { postJson } from "../support/https-client.js";
import { reviewFor } from "../support/replay.js";
import {
  admittedSecretRef,
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

async function metric(name: string): Promise<number> {
  if (!local) throw new Error("metrics need the local webhook");
  return metricValue(local.webhook.metricsPort, name);
}

describe.runIf(local !== undefined)("resilience (local control plane)", () => {
  it("fails closed while the webhook is down and recovers when it is back, without restarting the API server", async () => {
    if (!local) throw new Error("unreachable");
    const ns = await freshNamespace("e2e-down");
    await putStore(ns, "alice", ["k"]);
    await stopProcess(local.plane.pidFile, "webhook", "SIGKILL");

    const down = await refusal(createPod("platform", ns, jobPod({ owner: "alice", env: { A: "secret:k" } })));
    expect(down.code).toBe(500);
    expect(down.message).toMatch(/failed calling webhook "secrets\.apolo\.us"/);
    // failurePolicy Fail: even a pod without references is not let through unchecked.
    const plain = await refusal(createPod("platform", ns, jobPod({ env: { A: "1" } })));
    expect(plain.message).toMatch(/failed calling webhook/);

    const managed = startWebhook(local.plane, local.webhook);
    await waitForWebhookReady(local.webhook, managed);
    expect(await admittedSecretRef(ns, "alice", "k", "an admission after the webhook restarted")).toEqual({
      name: storeName("alice"),
      key: "k",
    });
  });

  it("reconnects the store cache after an API server restart and sees a secret added afterwards", async () => {
    if (!local) throw new Error("unreachable");
    const ns = await freshNamespace("e2e-restart");
    await putStore(ns, "alice", ["before"]);
    await waitFor(
      "the cache to hold the store",
      async () => ((await metric("apolo_secrets_webhook_store_cache_keys")) >= 1 ? true : undefined),
      30_000,
    );

    await restartApiserver(local.plane);
    const keysBefore = await metric("apolo_secrets_webhook_store_cache_keys");
    await putStore(ns, "alice", ["before", "after_restart"]);
    // The watch (not a live lookup) must bring the new key in.
    await waitFor(
      "the store cache to see the key added after the restart",
      async () =>
        (await metric("apolo_secrets_webhook_store_cache_keys")) === keysBefore + 1 ? true : undefined,
      60_000,
      250,
    );
    const lookupsBefore = await metric("apolo_secrets_webhook_live_lookups_total");
    const created = await createPod(
      "platform",
      ns,
      jobPod({ owner: "alice", env: { A: "secret:after_restart" } }),
    );
    expect(
      (await readPod(ns, created.metadata?.name as string)).spec?.containers[0]?.env?.[0]?.valueFrom
        ?.secretKeyRef?.key,
    ).toBe("after_restart");
    expect(await metric("apolo_secrets_webhook_live_lookups_total")).toBe(lookupsBefore);
  });

  it("on SIGTERM reports not ready, keeps answering through the delay, then drains and exits 0", async () => {
    if (!local) throw new Error("unreachable");
    // A delay far longer than the steps below: each is awaited as an event (503 seen, answer
    // received), and /readyz still 503 afterwards proves the answer came within the delay.
    const { webhook, managed } = await launchWebhook(local.plane, "webhook-sigterm", {
      adjust: (w) => {
        w.args = w.args
          .filter((a) => !a.startsWith("--shutdown-delay-ms="))
          .concat("--shutdown-delay-ms=15000");
      },
    });
    const review = reviewFor({ metadata: {}, spec: { containers: [{ name: "c" }] } }, "term", {
      username: "x",
      groups: [],
    });
    const readyz = () =>
      fetch(`http://127.0.0.1:${webhook.metricsPort}/readyz`)
        .then((r) => r.status)
        .catch(() => 0);
    process.kill(managed.pid, "SIGTERM");
    await waitFor("not ready", async () => ((await readyz()) === 503 ? true : undefined), 10_000, 20);
    const during = await postJson(webhook.url, review, { ca: local.plane.ca.pem, ...webhook.client });
    expect(during.status).toBe(200);
    expect(await readyz()).toBe(503);
    expect(await managed.exited).toBe(0);
    const log = readFileSync(managed.logFile, "utf8");
    expect(log).toMatch(/"msg":"stopped"/);
  });
});
