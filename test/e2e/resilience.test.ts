// Failures the webhook must survive: its own process killed mid-suite (admissions fail closed,
// then recover without touching the API server) and an API server restart (the cache reconnects).
// These need the local control plane: processes of an external cluster are not ours to kill.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { restartApiserver } from "../cluster/control-plane.js";
import { freePort, startProcess, stopProcess, waitFor, waitForReadyz } from "../cluster/processes.js";
import { startWebhook, waitForWebhookReady } from "../cluster/webhook.js";
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
const BIN = join(import.meta.dirname, "../../bin/apolo-secrets-webhook");

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
    const port = await freePort();
    const metricsPort = await freePort();
    const args = local.webhook.args
      .filter((a) => !/^--(port|metrics-port|shutdown-delay-ms)=/.test(a))
      .concat([`--port=${port}`, `--metrics-port=${metricsPort}`, "--shutdown-delay-ms=1500"]);
    const managed = startProcess(local.plane.dir, local.plane.pidFile, {
      name: "webhook-sigterm",
      command: BIN,
      args,
    });
    await waitForReadyz("the second webhook", metricsPort, managed);
    const review = reviewFor({ metadata: {}, spec: { containers: [{ name: "c" }] } }, "term", {
      username: "x",
      groups: [],
    });
    process.kill(managed.pid, "SIGTERM");
    await waitFor(
      "not ready",
      async () =>
        (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then((r) => r.status)) === 503
          ? true
          : undefined,
      1_000,
      20,
    );
    const during = await postJson(`https://127.0.0.1:${port}/mutate`, review, {
      ca: local.plane.ca.pem,
      ...local.webhook.client,
    });
    expect(during.status).toBe(200);
    expect(await managed.exited).toBe(0);
    expect(readFileSync(managed.logFile, "utf8")).toMatch(/"msg":"stopped"/);
  });
});
