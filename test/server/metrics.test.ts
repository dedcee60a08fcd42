// The webhook's Prometheus metrics, each test on its own server, index and registry: counts that
// follow the reviews actually sent over HTTPS (deltas by decision and reason), gauges that follow
// the state they report at scrape time, and every metric the README lists exported with the
// documented labels (and nothing undocumented).

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { createLogger } from "../../src/lifecycle/logger.js";
import { createApp } from "../../src/server/app.js";
import { BodyBudget } from "../../src/server/body-budget.js";
import { createMetrics } from "../../src/server/metrics.js";
import { createReviewHandler } from "../../src/server/review-handler.js";
import { CASE_NAMESPACE, type JsonObject, jobPod } from "../cases/cases.js";
import { createCa, issueCert, type TestCa } from "../support/certs.js";
import { postJson } from "../support/https-client.js";
import { casePolicy, reviewFor } from "../support/replay.js";

const README = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
const PREFIX = "apolo_secrets_webhook_";
const ALICE = "user--alice--secrets";

let dir: string;
let ca: TestCa;
let serving: { cert: Buffer; key: Buffer };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "apolo-metrics-"));
  ca = createCa(dir, "ca");
  const issued = issueCert(ca, { name: "serving", commonName: "w", ips: ["127.0.0.1"], usage: "server" });
  serving = { cert: readFileSync(issued.certFile), key: readFileSync(issued.keyFile) };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A webhook of its own: a real index, a live lookup answered from `late`, its own registry. */
async function startWebhook() {
  const index = new MemorySecretIndex();
  const late = new Map<string, string[]>();
  const cache = {
    synced: false,
    get storeCount() {
      return index.storeCount;
    },
    get keyCount() {
      return index.keyCount;
    },
  };
  const budget = new BodyBudget(1024 * 1024);
  const metrics = createMetrics(cache, budget);
  const app = createApp({
    handleReview: createReviewHandler({
      policy: casePolicy(),
      index,
      refresh: async (namespace, store) => {
        const keys = late.get(`${namespace}/${store}`);
        if (!keys) return "absent";
        index.set(namespace, store, keys);
        return "found";
      },
      logger: createLogger("error", () => {}),
      metrics,
    }),
    readiness: () => [],
    maxBodyBytes: 64 * 1024,
    bodyBudget: budget,
  });
  const server: Server = createServer(serving, app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/mutate`;
  let uid = 0;
  const send = async (pod: JsonObject, username = "alice") => {
    const answer = await postJson(url, reviewFor(pod, `uid-${uid++}`, { username, groups: [] }), {
      ca: ca.pem,
    });
    return answer;
  };
  const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { index, late, cache, budget, metrics, url, send, stop };
}

/** The samples of one scrape: "name{a="x",b="y"}" (labels sorted) → value. */
async function scrape(registry: { metrics(): Promise<string> }): Promise<Map<string, number>> {
  const samples = new Map<string, number>();
  for (const line of (await registry.metrics()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    const series = line.slice(0, space);
    const brace = series.indexOf("{");
    const name = brace < 0 ? series : series.slice(0, brace);
    const labels =
      brace < 0
        ? []
        : series
            .slice(brace + 1, -1)
            .split(",")
            .sort();
    samples.set(`${name}{${labels.join(",")}}`, Number(line.slice(space + 1)));
  }
  return samples;
}

function series(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return `${PREFIX}${name}{${parts.sort().join(",")}}`;
}

describe("admission metrics", () => {
  it("count the reviews sent, by decision and reason, and time each one", async () => {
    const webhook = await startWebhook();
    try {
      webhook.index.set(CASE_NAMESPACE, ALICE, ["k"]);
      webhook.late.set(`${CASE_NAMESPACE}/${ALICE}`, ["k", "fresh"]);
      const before = await scrape(webhook.metrics.registry);

      const statuses: number[] = [];
      for (const pod of [
        jobPod({ env: { A: "secret:k" } }), // allowed, mutated
        jobPod({ env: { A: "secret:k" } }), // allowed, mutated
        jobPod({ env: { A: "secret:/bob/k" } }), // denied, foreign-secret
        jobPod({ env: { A: "secret:fresh" } }), // missing, found live: allowed, mutated
        jobPod({ env: { A: "secret:never" } }), // missing, store found live, still missing: denied
        jobPod({ owner: undefined }), // nothing to do: allowed, unchanged
      ])
        statuses.push((await webhook.send(pod)).status);
      // carol has no store at all: the live lookup finds none.
      statuses.push((await webhook.send(jobPod({ owner: "carol", env: { A: "secret:x" } }), "carol")).status);
      const notReview = await postJson(webhook.url, { hello: "world" }, { ca: ca.pem });
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200]);
      expect(notReview.status).toBe(400);

      const after = await scrape(webhook.metrics.registry);
      const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
      const admissions = (decision: string, reason: string) =>
        delta(series("admissions_total", { decision, reason }));
      expect(admissions("allowed", "mutated")).toBe(3);
      expect(admissions("allowed", "unchanged")).toBe(1);
      expect(admissions("denied", "foreign-secret")).toBe(1);
      expect(admissions("denied", "missing-secrets")).toBe(2);
      expect(admissions("error", "bad-request")).toBe(1);
      // Nothing counted twice: the series above are all there is.
      const total = [...after.keys()]
        .filter((k) => k.startsWith(`${PREFIX}admissions_total{`))
        .reduce((sum, k) => sum + delta(k), 0);
      expect(total).toBe(8);

      expect(delta(series("live_lookups_total", { result: "found" }))).toBe(2);
      expect(delta(series("live_lookups_total", { result: "absent" }))).toBe(1);
      // Each decoded review is timed once, under its decision (a body that is no review is not).
      expect(delta(series("admission_duration_seconds_count", { decision: "allowed" }))).toBe(4);
      expect(delta(series("admission_duration_seconds_count", { decision: "denied" }))).toBe(3);
      // Buckets start at 100 µs.
      expect(
        after.has(series("admission_duration_seconds_bucket", { decision: "allowed", le: "0.0001" })),
      ).toBe(true);
    } finally {
      await webhook.stop();
    }
  });
});

describe("state gauges", () => {
  it("report the cache and the body budget as they are at scrape time", async () => {
    const webhook = await startWebhook();
    try {
      const gauge = async (name: string) => (await scrape(webhook.metrics.registry)).get(series(name));
      expect(await gauge("store_cache_stores")).toBe(0);
      expect(await gauge("store_cache_synced")).toBe(0);
      webhook.index.set(CASE_NAMESPACE, ALICE, ["a", "b"]);
      webhook.index.set(CASE_NAMESPACE, "user--bob--secrets", ["c"]);
      webhook.cache.synced = true;
      expect(await gauge("store_cache_stores")).toBe(2);
      expect(await gauge("store_cache_keys")).toBe(3);
      expect(await gauge("store_cache_synced")).toBe(1);
      webhook.index.delete(CASE_NAMESPACE, ALICE);
      expect(await gauge("store_cache_stores")).toBe(1);
      expect(await gauge("store_cache_keys")).toBe(1);

      expect(await gauge("inflight_body_bytes")).toBe(0);
      expect(webhook.budget.tryReserve(1234)).toBe(true);
      expect(await gauge("inflight_body_bytes")).toBe(1234);
      webhook.budget.release(1234);
      expect(await gauge("inflight_body_bytes")).toBe(0);
    } finally {
      await webhook.stop();
    }
  });
});

/** Metric name → label names, as the README lists them (`…_x` abbreviates the prefix). */
function documentedMetrics(): Map<string, string[]> {
  const documented = new Map<string, string[]>();
  const pattern = /(?:apolo_secrets_webhook_|…_)([a-z_]+)(?:\{([^}]*)\})?/g;
  for (const match of README.matchAll(pattern)) {
    const [, suffix = "", labels] = match;
    // Environment variables are written `…_UPPER`: [a-z_] never matches them.
    if (suffix === "") continue;
    const names = labels === undefined ? [] : labels.split(",").map((l) => l.split("=")[0] as string);
    const known = documented.get(`${PREFIX}${suffix}`);
    // A later mention without labels (in running text) does not drop the listed ones.
    if (!known || names.length > known.length) documented.set(`${PREFIX}${suffix}`, names);
  }
  return documented;
}

describe("the metrics the README lists", () => {
  it("are exactly the ones the webhook's registry exports, with the documented labels", async () => {
    const documented = documentedMetrics();
    expect(documented.size).toBeGreaterThanOrEqual(11);
    const { registry } = createMetrics({ storeCount: 0, keyCount: 0, synced: true }, new BodyBudget(1));
    const exported = new Map<string, string[]>();
    for (const metric of await registry.getMetricsAsJSON()) {
      // prom-client keeps a metric's declared label names on the metric object.
      const declared = (registry.getSingleMetric(metric.name) as unknown as { labelNames?: string[] })
        .labelNames;
      exported.set(metric.name, [...(declared ?? [])]);
    }
    expect(new Map([...exported].map(([name, labels]) => [name, labels.sort()]))).toEqual(
      new Map([...documented].map(([name, labels]) => [name, labels.sort()])),
    );
  });
});
