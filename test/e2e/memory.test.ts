// Bounded memory under hostile load: the webhook process, run with the chart's own settings
// (NODE_OPTIONS and the in-flight body cap from the rendered Deployment), receives 40 concurrent
// reviews of 6.8 MB each (under --max-body-bytes) and must stay under the chart's memory limit,
// refusing what does not fit with 429 while a normal review sent meanwhile is still mutated.

import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../cases/cases.js";
import { find, render } from "../chart/helm.js";
import { stopProcess, waitFor } from "../cluster/processes.js";
import { launchWebhook } from "../cluster/webhook.js";
import { postJson } from "../support/https-client.js";
import { reviewFor } from "../support/replay.js";
import { aliceJobReview } from "../support/review.js";
import { e2e, freshNamespace, metricValue, putStore, storeName } from "./support.js";

const local = e2e().local;
const CONCURRENT = 40;
const BIG_BYTES = 6_800_000;

/** The webhook container as the chart renders it by default: its env and its memory limit. */
function chartWebhookContainer() {
  const deployment = find(render(), "Deployment").spec as {
    template: {
      spec: {
        containers: Array<{
          env: Array<{ name: string; value: string }>;
          resources: { limits: { memory: string } };
        }>;
      };
    };
  };
  const container = deployment.template.spec.containers[0];
  if (!container) throw new Error("the chart renders no webhook container");
  const limit = /^(\d+)Mi$/.exec(container.resources.limits.memory);
  if (!limit) throw new Error(`unexpected memory limit ${container.resources.limits.memory}`);
  return { env: container.env, limitBytes: Number(limit[1]) * 1024 * 1024 };
}

function procStatusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** A pod with plain env vars (no references) whose review is `bytes` long, give or take 100. */
function bigReview(namespace: string, bytes: number): string {
  const env: Array<{ name: string; value: string }> = [];
  const pod = (): JsonObject => ({
    metadata: { name: "big", labels: { "platform.apolo.us/user": "alice" } },
    spec: { containers: [{ name: "c", image: "i", env }] },
  });
  const base = JSON.stringify(reviewFor(pod(), "big", { username: "alice", groups: [] }, namespace)).length;
  const entry = (i: number) => ({ name: `E${String(i).padStart(7, "0")}`, value: "v".repeat(24) });
  const perEntry = JSON.stringify(entry(0)).length + 1;
  for (let i = 0; i < Math.floor((bytes - base) / perEntry); i++) env.push(entry(i));
  return JSON.stringify(reviewFor(pod(), "big", { username: "alice", groups: [] }, namespace));
}

const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

describe.runIf(local !== undefined)("memory under hostile load (local control plane)", () => {
  it(`stays under the chart's memory limit with ${CONCURRENT} concurrent 6.8 MB reviews, and still mutates a normal pod meanwhile`, async () => {
    if (!local) throw new Error("unreachable");
    const chart = chartWebhookContainer();
    const chartEnv = Object.fromEntries(chart.env.map((e) => [e.name, e.value]));
    const { webhook, managed } = await launchWebhook(local.plane, "webhook-memory", {
      adjust: (w) => {
        w.env = {
          ...w.env,
          NODE_OPTIONS: chartEnv.NODE_OPTIONS ?? "",
          APOLO_SECRETS_WEBHOOK_MAX_INFLIGHT_BODY_BYTES:
            chartEnv.APOLO_SECRETS_WEBHOOK_MAX_INFLIGHT_BODY_BYTES,
        };
      },
    });
    try {
      const ns = await freshNamespace("e2e-memory");
      await putStore(ns, "alice", ["k"]);
      const tls = { ca: local.plane.ca.pem, ...webhook.client };
      const normal = aliceJobReview("normal", ns);
      const mutated = (answer: { status: number; body: unknown }) => {
        const response = (answer.body as { response?: { allowed?: boolean; patch?: string } }).response;
        return (
          answer.status === 200 &&
          response?.allowed === true &&
          Buffer.from(response.patch ?? "", "base64")
            .toString()
            .includes(storeName("alice"))
        );
      };
      expect(mutated(await postJson(webhook.url, normal, tls))).toBe(true);

      const big = Buffer.from(bigReview(ns, BIG_BYTES));
      expect(Math.abs(big.length - BIG_BYTES)).toBeLessThan(100);
      const rssBefore = procStatusBytes(managed.pid, "VmRSS");
      // Keep-alive connections, as the API server's client uses.
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENT });
      let settled = 0;
      const bigs = Array.from({ length: CONCURRENT }, () =>
        postJson(webhook.url, undefined, { ...tls, agent, raw: big })
          .then((answer) => answer.status)
          .catch((error: unknown) => String((error as { code?: string }).code ?? error))
          .finally(() => settled++),
      );
      // The normal review goes in while the large ones are being read (or, on code without the
      // cap and its metric, once they are done).
      await waitFor(
        "large reviews in flight",
        async () =>
          settled === CONCURRENT ||
          (await metricValue(webhook.metricsPort, "apolo_secrets_webhook_inflight_body_bytes")) > 0
            ? true
            : undefined,
        60_000,
        20,
      );
      const normalAnswer = await postJson(webhook.url, normal, tls);
      const statuses = await Promise.all(bigs);
      agent.destroy();
      const peak = procStatusBytes(managed.pid, "VmHWM");
      const counts = new Map<string | number, number>();
      for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
      process.stdout.write(
        `[memory] RSS ${MB(rssBefore)} before, peak (VmHWM) ${MB(peak)}, limit ${MB(chart.limitBytes)}; large reviews: ${JSON.stringify(Object.fromEntries(counts))}\n`,
      );

      expect(mutated(normalAnswer), JSON.stringify(normalAnswer.body)).toBe(true);
      expect(peak).toBeLessThan(chart.limitBytes);
      // Every large review got an answer: admitted, or refused for now.
      expect([...counts.keys()].every((status) => status === 200 || status === 429)).toBe(true);
      expect(counts.get(200) ?? 0).toBeGreaterThan(0);
      expect(counts.get(429) ?? 0).toBeGreaterThan(0);
      expect(
        await metricValue(webhook.metricsPort, "apolo_secrets_webhook_inflight_limit_refusals_total"),
      ).toBe(counts.get(429));
    } finally {
      await stopProcess(local.plane.pidFile, "webhook-memory");
    }
  }, 180_000);
});
