// 2. Pod creations through the real API server with and without the webhook in the path (the same
// pods, interleaved), and the API server's own measurement of the webhook call.

import { execFileSync } from "node:child_process";
import type { V1Pod } from "@kubernetes/client-node";
import type { LocalCluster } from "../test/cluster/harness.js";
import { SERVED_NAMESPACE_LABEL } from "../test/cluster/webhook.js";
import { type Benchmark, client, ensureNamespace, ms, percentile, say, storeBody } from "./common.js";
import { BENCH_KEYS, BENCH_OWNER, PODS } from "./pods.js";

const ROUNDS = 8;
const PER_ROUND = 25;
const WEBHOOK = 'name="secrets.apolo.us"';

/** Milliseconds per pod creation, with and without the webhook; the first round only warms up. */
async function createPods(cluster: LocalCluster): Promise<{ with: number[]; without: number[] }> {
  const platform = client(cluster, "platform");
  const times = { with: [] as number[], without: [] as number[] };
  let n = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    for (const mode of ["with", "without"] as const) {
      for (let i = 0; i < PER_ROUND; i++) {
        const pod = structuredClone(PODS.typical) as unknown as V1Pod;
        pod.metadata = { ...pod.metadata, name: `p-${n++}` };
        const started = performance.now();
        await platform.createNamespacedPod({ namespace: `bench-${mode}`, body: pod });
        if (round > 0) times[mode].push(performance.now() - started);
      }
    }
  }
  return times;
}

function apiServerMetrics(cluster: LocalCluster): string {
  return execFileSync(
    cluster.plane.tools.kubectl,
    ["--kubeconfig", cluster.plane.kubeconfigs.admin, "get", "--raw", "/metrics"],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  );
}

function sumMetric(text: string, name: string, labelPart: string): number {
  let sum = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(`${name}{`) && line.includes(labelPart))
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  return sum;
}

export const apiServer: Benchmark = {
  name: "api-server",
  async run({ cluster }) {
    say("\n2. Pod creation through the API server, with and without the webhook in the path (same pods)");
    const admin = client(cluster, "admin");
    await ensureNamespace(admin, "bench-with", { [SERVED_NAMESPACE_LABEL]: "enabled" });
    await ensureNamespace(admin, "bench-without");
    for (const ns of ["bench-with", "bench-without"])
      await admin.createNamespacedSecret({ namespace: ns, body: storeBody(BENCH_OWNER, BENCH_KEYS) });
    await new Promise((r) => setTimeout(r, 1000));
    const { with: w, without: wo } = await createPods(cluster);
    const raw = apiServerMetrics(cluster);
    const sum = sumMetric(raw, "apiserver_admission_webhook_admission_duration_seconds_sum", WEBHOOK);
    const count = sumMetric(raw, "apiserver_admission_webhook_admission_duration_seconds_count", WEBHOOK);
    const result = {
      pods: w.length,
      withP50Ms: percentile(w, 50),
      withP99Ms: percentile(w, 99),
      withoutP50Ms: percentile(wo, 50),
      withoutP99Ms: percentile(wo, 99),
      addedP50Ms: percentile(w, 50) - percentile(wo, 50),
      addedP99Ms: percentile(w, 99) - percentile(wo, 99),
      apiServerWebhookMeanMs: (sum / count) * 1000,
    };
    say(
      `   ${result.pods} pods each: with webhook p50 ${ms(result.withP50Ms)} p99 ${ms(result.withP99Ms)} ms | without p50 ${ms(result.withoutP50Ms)} p99 ${ms(result.withoutP99Ms)} ms`,
    );
    say(
      `   added by the webhook: p50 ${ms(result.addedP50Ms)} ms, p99 ${ms(result.addedP99Ms)} ms; the API server's own mean webhook call: ${ms(result.apiServerWebhookMeanMs)} ms`,
    );
    const target = {
      what: "added latency through the API server, p50 < 2 ms",
      value: `${ms(result.addedP50Ms)} ms`,
      met: result.addedP50Ms < 2,
    };
    return { result, targets: [target] };
  },
};
