// `make bench`: how fast, how big, against what. Every figure is measured in this run next to a
// baseline measured in the same run, and reported as a ratio; nothing here fails a build.
// One file per benchmark; BENCH_ONLY (a comma-separated list of names) runs some of them:
//
//  admission   admission.ts: throughput and CPU per request over HTTPS keep-alive vs a minimal server
//  api-server  api-server.ts: pod creations through the real API server: webhook, no-op webhook, none
//  soak        soak.ts: a sustained run against the baseline and the webhook: peak RSS, throughput
//  scale       scale.ts: 1,000, 10,000 and 100,000 owners × 20 keys: sync time, RSS, lookup time
//
// It ends with one block: every target of the performance issue, measured value, met or missed
// (targets.ts), also written with all figures to .tmp/bench/latest.json.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { startLocalCluster, stopLocalCluster } from "../test/cluster/harness.js";
import { admission } from "./admission.js";
import { apiServer } from "./api-server.js";
import { type BenchContext, type Benchmark, say, webhookEnv } from "./common.js";
import { scale } from "./scale.js";
import { soak } from "./soak.js";
import { summaryLines, type Target, verdict } from "./targets.js";

// In this order: the scale benchmark starts processes of its own, after the shared webhook's runs.
const BENCHMARKS: readonly Benchmark[] = [admission, apiServer, soak, scale];

function chosen(): readonly Benchmark[] {
  const names = (process.env.BENCH_ONLY ?? "").split(",").filter((name) => name !== "");
  const known = BENCHMARKS.map((b) => b.name);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new Error(
      `BENCH_ONLY names no benchmark '${unknown.join("', '")}': use some of ${known.join(", ")}`,
    );
  return names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => names.includes(b.name));
}

function machine() {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    // The baseline and floor inherit it; the webhook processes run with the chart's (webhookNodeOptions).
    nodeOptions: process.env.NODE_OPTIONS ?? "",
    webhookNodeOptions: webhookEnv().NODE_OPTIONS ?? "",
    date: new Date().toISOString(),
  };
}

async function runAll(benchmarks: readonly Benchmark[], context: BenchContext) {
  const results: Record<string, unknown> = {};
  const targets: Target[] = [];
  for (const benchmark of benchmarks) {
    const run = await benchmark.run(context);
    results[benchmark.name] = run.result;
    targets.push(...run.targets);
  }
  say("\nTargets (met / missed / n/a: not measured in this run)");
  for (const line of summaryLines(targets)) say(line);
  return { ...results, targets: targets.map((t) => ({ ...t, verdict: verdict(t) })) };
}

async function main(): Promise<void> {
  const benchmarks = chosen();
  const host = machine();
  say(
    `apolo-secrets-webhook benchmarks on ${host.cores} × ${host.cpu}, ${host.memoryGb} GiB, Node ${host.node}, NODE_OPTIONS '${host.nodeOptions}', the webhook's (the chart's webhook.nodeOptions unless BENCH_WEBHOOK_NODE_OPTIONS) '${host.webhookNodeOptions}'`,
  );
  const work = mkdtempSync(join(tmpdir(), "apolo-bench-"));
  // wrk cannot present a client certificate: the benchmarked webhook runs without client auth.
  const cluster = await startLocalCluster((line) => say(`   ${line}`), {
    clientAuth: false,
    webhookEnv: webhookEnv(),
  });
  try {
    const results = await runAll(benchmarks, { cluster, work });
    const folder = join(import.meta.dirname, "..", ".tmp", "bench");
    const file = join(folder, "latest.json");
    mkdirSync(folder, { recursive: true });
    const settings = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => name.startsWith("BENCH_")),
    );
    const all = { machine: host, settings, kubeVersion: cluster.plane.tools.kubeVersion, ...results };
    writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
    say(`\nResults: ${file}`);
  } finally {
    await stopLocalCluster(cluster);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
