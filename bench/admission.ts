// 1. Admission throughput and latency over HTTPS keep-alive: the webhook vs a minimal HTTPS server
// (baseline-server.ts) on the same requests, for three pods at three concurrency levels, plus the
// latency of the typical pod at half the webhook's maximum throughput.

import { join } from "node:path";
import type { LocalCluster } from "../test/cluster/harness.js";
import { freePort, startProcess, stopProcess, waitFor } from "../test/cluster/processes.js";
import { issueCert } from "../test/support/certs.js";
import { postJson } from "../test/support/https-client.js";
import { metricValue } from "../test/support/metrics.js";
import {
  type BenchContext,
  type Benchmark,
  client,
  ensureNamespace,
  ms,
  SECONDS,
  say,
  storeBody,
  webhookPid,
} from "./common.js";
import { cpuMs, type LoadResult, wrk } from "./load.js";
import { BENCH_KEYS, BENCH_OWNER, PODS, review } from "./pods.js";

const CONCURRENCY = [1, 8, 32];

type Measured = LoadResult & { cpuUsPerRequest: number };

interface AdmissionRow {
  pod: string;
  concurrency: number;
  baseline: Measured;
  webhook: Measured;
  throughputRatio: number;
  /** baseline CPU per request ÷ webhook CPU per request: the throughput ratio on a core of its own. */
  capacityRatio: number;
}

/** wrk against a server, with the server's own CPU time per request. */
async function measured(url: string, body: string, connections: number, pid: number, work: string) {
  const before = cpuMs(pid);
  const result = await wrk(url, body, connections, SECONDS, work);
  return { ...result, cpuUsPerRequest: ((cpuMs(pid) - before) * 1000) / result.requests };
}

async function withBenchStore(cluster: LocalCluster): Promise<void> {
  const admin = client(cluster, "admin");
  await ensureNamespace(admin, "bench");
  await admin.createNamespacedSecret({ namespace: "bench", body: storeBody(BENCH_OWNER, BENCH_KEYS) });
  const metricsPort = cluster.webhook.metricsPort;
  await waitFor(
    "the webhook cache to hold the bench store",
    async () =>
      (await metricValue(metricsPort, "apolo_secrets_webhook_store_cache_keys")) >= BENCH_KEYS.length
        ? true
        : undefined,
    30_000,
  );
}

/** Starts the baseline server; returns its URL and pid. */
async function startBaseline(cluster: LocalCluster): Promise<{ url: string; pid: number }> {
  const cert = issueCert(cluster.plane.ca, {
    name: "baseline",
    commonName: "baseline",
    ips: ["127.0.0.1"],
    usage: "server",
  });
  const port = await freePort();
  const server = join(import.meta.dirname, "baseline-server.ts");
  const baseline = startProcess(cluster.dir, cluster.plane.pidFile, {
    name: "baseline",
    command: process.execPath,
    args: ["--import", "tsx", server, String(port), cert.certFile, cert.keyFile],
  });
  const refused = (e: { cause?: { code?: string } }) => (e.cause?.code === "ECONNREFUSED" ? undefined : true);
  await waitFor(
    "the baseline server",
    async () => ((await fetch(`http://127.0.0.1:${port}`).catch(refused)) ? true : undefined),
    20_000,
  );
  return { url: `https://127.0.0.1:${port}/mutate`, pid: baseline.pid };
}

/** Checks the webhook really does the work for this pod before timing it; returns the patch size. */
async function patchOperations(cluster: LocalCluster, name: string, body: string): Promise<number> {
  const answer = await postJson(cluster.webhook.url, JSON.parse(body), { ca: cluster.plane.ca.pem });
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
  const errors = w.errors + b.errors > 0 ? ` errors ${w.errors}/${b.errors}` : "";
  say(
    `   ${row.pod.padEnd(8)} c=${String(row.concurrency).padEnd(3)} baseline ${b.rps.toFixed(0).padStart(6)}/s p50 ${ms(b.p50Ms)} p99 ${ms(b.p99Ms)} ms | webhook ${w.rps.toFixed(0).padStart(6)}/s p50 ${ms(w.p50Ms)} p99 ${ms(w.p99Ms)} max ${ms(w.maxMs)} ms | ratio ${row.throughputRatio.toFixed(2)} | CPU/req ${b.cpuUsPerRequest.toFixed(0)} vs ${w.cpuUsPerRequest.toFixed(0)} µs, capacity ratio ${row.capacityRatio.toFixed(2)}${errors}`,
  );
}

async function podRows(context: BenchContext, baseline: { url: string; pid: number }) {
  const { cluster, work } = context;
  const webhookUrl = cluster.webhook.url;
  const rows: AdmissionRow[] = [];
  for (const [pod, value] of Object.entries(PODS)) {
    const body = JSON.stringify(review(value, "0f2d1c7e-bench"));
    const operations = await patchOperations(cluster, pod, body);
    say(`   ${pod}: ${Buffer.byteLength(body)} bytes per review, ${operations} patch operations`);
    for (const concurrency of CONCURRENCY) {
      await wrk(webhookUrl, body, concurrency, 1, work); // warm-up
      await wrk(baseline.url, body, concurrency, 1, work);
      const base = await measured(baseline.url, body, concurrency, baseline.pid, work);
      const webhook = await measured(webhookUrl, body, concurrency, webhookPid(cluster), work);
      const throughputRatio = webhook.rps / base.rps;
      const capacityRatio = base.cpuUsPerRequest / webhook.cpuUsPerRequest;
      const row = { pod, concurrency, baseline: base, webhook, throughputRatio, capacityRatio };
      rows.push(row);
      printRow(row);
    }
  }
  return rows;
}

async function halfLoad(context: BenchContext, rows: AdmissionRow[], baselineUrl: string) {
  const typical = rows.filter((r) => r.pod === "typical");
  const best = typical.reduce((a, b) => (b.webhook.rps > a.webhook.rps ? b : a));
  const rate = Math.round(best.webhook.rps / 2);
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
    say("\n1. Admission over HTTPS keep-alive: webhook vs a minimal Node HTTPS server (same requests)");
    await withBenchStore(context.cluster);
    const baseline = await startBaseline(context.cluster);
    const rows = await podRows(context, baseline);
    const half = await halfLoad(context, rows, baseline.url);
    await stopProcess(context.cluster.plane.pidFile, "baseline");
    const typical = rows.filter((r) => r.pod === "typical");
    const bestRatio = Math.max(...typical.map((r) => r.throughputRatio));
    const bestCapacity = Math.max(...typical.map((r) => r.capacityRatio));
    return {
      result: { rows, halfLoad: half },
      targets: [
        {
          what: "typical-pod throughput ≥ 70% of the baseline (best concurrency)",
          value: `${(bestRatio * 100).toFixed(0)}% (on CPU per request: ${(bestCapacity * 100).toFixed(0)}%)`,
          met: bestRatio >= 0.7,
        },
        {
          what: "p99 at half the maximum throughput < 5 ms",
          value: `${ms(half.webhook.p99Ms)} ms`,
          met: half.webhook.p99Ms < 5,
        },
      ],
    };
  },
};
