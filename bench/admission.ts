// 1. Admission throughput and latency over HTTPS keep-alive: the webhook vs a minimal HTTPS server
// (baseline-server.ts) and vs the floor (floor-server.ts: the webhook's very answers, log line and
// counts without any check) on the same requests, for three pods at three concurrency levels, in
// BENCH_ROUNDS rounds whose order rotates (figures are medians: drift hits all alike), plus the
// latency of the typical pod at half the webhook's maximum throughput.

import { ApiException } from "@kubernetes/client-node";
import type { LocalCluster } from "../test/cluster/harness.js";
import { stopProcess, waitFor } from "../test/cluster/processes.js";
import { postJson } from "../test/support/https-client.js";
import { metricValue } from "../test/support/metrics.js";
import { type Baseline, startBaseline } from "./baseline.js";
import {
  type BenchContext,
  type Benchmark,
  client,
  ensureNamespace,
  ms,
  ROUNDS,
  SECONDS,
  say,
  storeBody,
  webhookEnv,
  webhookPid,
} from "./common.js";
import { cpuMs, type LoadResult, wrk } from "./load.js";
import { BENCH_KEYS, BENCH_OWNER, PODS, review } from "./pods.js";
import { atLeast, atMost, median, type Target, withFloor } from "./targets.js";

export const CONCURRENCY = [1, 8, 32] as const;

type Measured = LoadResult & { cpuUsPerRequest: number };

export interface AdmissionRow {
  pod: string;
  concurrency: number;
  /** The round whose throughput ratio is the median, for its latencies. */
  baseline: Measured;
  floor: Measured;
  webhook: Measured;
  /** Medians over the rounds. */
  baselineRps: number;
  floorRps: number;
  webhookRps: number;
  baselineCpuUs: number;
  floorCpuUs: number;
  webhookCpuUs: number;
  /** Median over the rounds of webhook req/s ÷ baseline req/s (each round measures all three). */
  throughputRatio: number;
  /** Median over the rounds of webhook CPU per request ÷ the baseline's. */
  cpuRatio: number;
  /** The same two ratios for the floor (floor-server.ts): what the answers alone cost. */
  floorThroughputRatio: number;
  floorCpuRatio: number;
  /** Median over the rounds of webhook req/s ÷ floor req/s. */
  webhookToFloorRatio: number;
  rounds: Round[];
}

type Round = { baseline: Measured; floor: Measured; webhook: Measured };

/** wrk against a server, with the server's own CPU time per request. */
async function measured(url: string, body: string, connections: number, pid: number, work: string) {
  const before = cpuMs(pid);
  const result = await wrk(url, body, connections, SECONDS, work);
  return { ...result, cpuUsPerRequest: ((cpuMs(pid) - before) * 1000) / result.requests };
}

/** The bench owner's store (once per cluster), and a webhook whose cache holds it. */
export async function withBenchStore(cluster: LocalCluster, metricsPort: number): Promise<void> {
  const admin = client(cluster, "admin");
  await ensureNamespace(admin, "bench");
  await admin
    .createNamespacedSecret({ namespace: "bench", body: storeBody(BENCH_OWNER, BENCH_KEYS) })
    .catch((e: unknown) => {
      if (!(e instanceof ApiException && e.code === 409)) throw e;
    });
  await waitFor(
    "the webhook cache to hold the bench store",
    async () =>
      (await metricValue(metricsPort, "apolo_secrets_webhook_store_cache_keys")) >= BENCH_KEYS.length
        ? true
        : undefined,
    30_000,
  );
}

/** Checks the webhook really does the work for this pod before timing it; returns the patch size. */
export async function patchOperations(
  cluster: LocalCluster,
  name: string,
  body: string,
  url = cluster.webhook.url,
): Promise<number> {
  const answer = await postJson(url, JSON.parse(body), { ca: cluster.plane.ca.pem });
  const response = (answer.body as { response?: { allowed?: boolean; patch?: string } }).response;
  const operations = response?.patch
    ? (JSON.parse(Buffer.from(response.patch, "base64").toString()) as unknown[]).length
    : 0;
  if (!response?.allowed || (name !== "none") !== operations > 0)
    throw new Error(`the webhook answered ${answer.text.slice(0, 300)} for the ${name} pod`);
  return operations;
}

function printRow(row: AdmissionRow): void {
  const { baseline: b, webhook: w } = row;
  const errors = row.rounds.reduce((n, r) => n + r.baseline.errors + r.floor.errors + r.webhook.errors, 0);
  const spread = row.rounds.map((r) => (r.webhook.rps / r.baseline.rps).toFixed(2)).join(" ");
  say(
    `   ${row.pod.padEnd(8)} c=${String(row.concurrency).padEnd(3)} baseline ${row.baselineRps.toFixed(0).padStart(6)}/s p50 ${ms(b.p50Ms)} p99 ${ms(b.p99Ms)} ms | webhook ${row.webhookRps.toFixed(0).padStart(6)}/s p50 ${ms(w.p50Ms)} p99 ${ms(w.p99Ms)} max ${ms(w.maxMs)} ms | ratio ${row.throughputRatio.toFixed(2)} (rounds ${spread}) | CPU/req ${row.baselineCpuUs.toFixed(0)} → ${row.webhookCpuUs.toFixed(0)} µs (${row.cpuRatio.toFixed(2)}x)${errors ? ` | ${errors} errors` : ""}`,
  );
  say(
    `   ${"".padEnd(8)}       floor ${row.floorRps.toFixed(0).padStart(6)}/s, ${row.floorCpuUs.toFixed(0)} µs/req: floor ÷ baseline ${row.floorThroughputRatio.toFixed(2)} (CPU ${row.floorCpuRatio.toFixed(2)}x), webhook ÷ floor ${row.webhookToFloorRatio.toFixed(2)} (floor rounds ${row.rounds.map((r) => (r.floor.rps / r.baseline.rps).toFixed(2)).join(" ")})`,
  );
}

interface Server {
  url: string;
  pid: number;
}

/** ROUNDS measurements of the three servers, in an order that rotates each round; medians. */
async function measuredRow(
  context: BenchContext,
  servers: { baseline: Server; floor: Server },
  pod: string,
  body: string,
  concurrency: number,
): Promise<AdmissionRow> {
  const { cluster, work } = context;
  const all: Array<[keyof Round, Server]> = [
    ["baseline", servers.baseline],
    ["floor", servers.floor],
    ["webhook", { url: cluster.webhook.url, pid: webhookPid(cluster) }],
  ];
  for (const [, server] of all) await wrk(server.url, body, concurrency, 1, work); // warm-up
  const rounds: Round[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const measuredRound: Partial<Round> = {};
    for (let i = 0; i < all.length; i++) {
      const [name, server] = all[(i + round) % all.length] as [keyof Round, Server];
      measuredRound[name] = await measured(server.url, body, concurrency, server.pid, work);
    }
    rounds.push(measuredRound as Round);
  }
  const ratio = (r: Round) => r.webhook.rps / r.baseline.rps;
  const middle = rounds.toSorted((a, b) => ratio(a) - ratio(b))[(rounds.length - 1) >> 1] ?? rounds[0];
  if (!middle) throw new Error("BENCH_ROUNDS must be at least 1");
  const of = (pick: (r: Round) => number) => median(rounds.map(pick));
  return {
    pod,
    concurrency,
    baseline: middle.baseline,
    floor: middle.floor,
    webhook: middle.webhook,
    baselineRps: of((r) => r.baseline.rps),
    floorRps: of((r) => r.floor.rps),
    webhookRps: of((r) => r.webhook.rps),
    baselineCpuUs: of((r) => r.baseline.cpuUsPerRequest),
    floorCpuUs: of((r) => r.floor.cpuUsPerRequest),
    webhookCpuUs: of((r) => r.webhook.cpuUsPerRequest),
    throughputRatio: of(ratio),
    cpuRatio: of((r) => r.webhook.cpuUsPerRequest / r.baseline.cpuUsPerRequest),
    floorThroughputRatio: of((r) => r.floor.rps / r.baseline.rps),
    floorCpuRatio: of((r) => r.floor.cpuUsPerRequest / r.baseline.cpuUsPerRequest),
    webhookToFloorRatio: of((r) => r.webhook.rps / r.floor.rps),
    rounds,
  };
}

/** The floor stands for the webhook's work only if it gives the very same answer text. */
async function sameAnswers(cluster: LocalCluster, floorUrl: string, pod: string, body: string) {
  const options = { ca: cluster.plane.ca.pem };
  const [webhook, floor] = await Promise.all([
    postJson(cluster.webhook.url, JSON.parse(body), options),
    postJson(floorUrl, JSON.parse(body), options),
  ]);
  if (webhook.text !== floor.text)
    throw new Error(
      `the floor server answers the ${pod} pod unlike the webhook: update bench/floor-server.ts\nwebhook: ${webhook.text.slice(0, 400)}\nfloor:   ${floor.text.slice(0, 400)}`,
    );
}

async function podRows(context: BenchContext, servers: { baseline: Baseline; floor: Baseline }) {
  const rows: AdmissionRow[] = [];
  for (const [pod, value] of Object.entries(PODS)) {
    const body = JSON.stringify(review(value, "0f2d1c7e-bench"));
    const operations = await patchOperations(context.cluster, pod, body);
    await sameAnswers(context.cluster, servers.floor.url, pod, body);
    say(`   ${pod}: ${Buffer.byteLength(body)} bytes per review, ${operations} patch operations`);
    for (const concurrency of CONCURRENCY) {
      const row = await measuredRow(context, servers, pod, body, concurrency);
      rows.push(row);
      printRow(row);
    }
  }
  return rows;
}

/** The issue's admission targets, from the rows of this run (a missing row: not measured). */
export function admissionTargets(rows: readonly AdmissionRow[]): Target[] {
  const at = (pod: string, c: number) => rows.find((r) => r.pod === pod && r.concurrency === c);
  const targets: Target[] = [];
  const throughput = (what: string, pod: string, bound: number) => {
    for (const c of CONCURRENCY) {
      const row = at(pod, c);
      targets.push(
        withFloor(
          atLeast(`${what}: throughput ÷ baseline, c=${c}`, row?.throughputRatio, bound),
          row?.floorThroughputRatio,
        ),
      );
    }
  };
  throughput("typical pod", "typical", 0.85);
  for (const c of CONCURRENCY) {
    const row = at("typical", c);
    targets.push(
      withFloor(
        atMost(`typical pod: CPU per request ÷ baseline, c=${c}`, row?.cpuRatio, 1.2),
        row?.floorCpuRatio,
      ),
    );
  }
  throughput("no-reference pod", "none", 0.95);
  throughput("large pod (20 × 30 refs)", "large", 0.5);
  return targets;
}

async function halfLoad(context: BenchContext, rows: AdmissionRow[], baselineUrl: string) {
  const typical = rows.filter((r) => r.pod === "typical");
  const best = typical.reduce((a, b) => (b.webhookRps > a.webhookRps ? b : a));
  const rate = Math.round(best.webhookRps / 2);
  const body = JSON.stringify(review(PODS.typical, "0f2d1c7e-rate"));
  // 32 connections paced to half the maximum: the API server's own client spreads its calls too.
  say(
    `   typical pod at half the webhook's maximum throughput (${rate}/s over 32 paced connections, ${SECONDS * 2} s):`,
  );
  const webhook = await wrk(context.cluster.webhook.url, body, 32, SECONDS * 2, context.work, rate);
  const baseline = await wrk(baselineUrl, body, 32, SECONDS * 2, context.work, rate);
  say(
    `   webhook ${webhook.rps.toFixed(0)}/s p50 ${ms(webhook.p50Ms)} p99 ${ms(webhook.p99Ms)} max ${ms(webhook.maxMs)} ms (errors ${webhook.errors}) | baseline ${baseline.rps.toFixed(0)}/s p50 ${ms(baseline.p50Ms)} p99 ${ms(baseline.p99Ms)} ms`,
  );
  return { rate, webhook, baseline };
}

export const admission: Benchmark = {
  name: "admission",
  async run(context) {
    say(
      `\n1. Admission over HTTPS keep-alive: webhook vs a minimal Node HTTPS server and vs the floor (same requests; ${ROUNDS} rounds of ${SECONDS} s in a rotating order, medians)`,
    );
    await withBenchStore(context.cluster, context.cluster.webhook.metricsPort);
    const baseline = await startBaseline(context.cluster, "baseline");
    let floor: Baseline | undefined;
    try {
      // The floor stands for the webhook's output: it runs with the webhook's heap flags.
      floor = await startBaseline(context.cluster, "floor", { script: "floor-server.ts", env: webhookEnv() });
      const rows = await podRows(context, { baseline, floor });
      const half = await halfLoad(context, rows, baseline.url);
      return { result: { rows, halfLoad: half }, targets: admissionTargets(rows) };
    } finally {
      await stopProcess(context.cluster.plane.pidFile, baseline.name);
      if (floor) await stopProcess(context.cluster.plane.pidFile, floor.name);
    }
  },
};
