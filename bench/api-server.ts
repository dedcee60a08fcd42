// 2. Pod creations through the real API server (server-side dry run: admission runs in full,
// nothing is written to etcd) in three namespaces, interleaved pod by pod in a rotating order:
//   webhook  served by the webhook (the chart's MutatingWebhookConfiguration, as in every test)
//   no-op    served by the baseline server registered the same way (same rules, failurePolicy,
//            timeout, TLS from the same CA, namespace selector on a label of its own)
//   none     no webhook at all
// The webhook's added latency is its percentile minus the no-op's: what the webhook's work costs
// over the cost any webhook call has (the API server's TLS client, JSON round trip).

import type { V1Pod } from "@kubernetes/client-node";
import { kubectl } from "../test/cluster/control-plane.js";
import type { LocalCluster } from "../test/cluster/harness.js";
import { stopProcess, waitFor } from "../test/cluster/processes.js";
import { SERVED_NAMESPACE_LABEL, webhookConfiguration } from "../test/cluster/webhook.js";
import { type Baseline, startBaseline } from "./baseline.js";
import {
  API_PODS,
  apiServerMetrics,
  type Benchmark,
  client,
  ensureNamespace,
  ms,
  say,
  storeBody,
} from "./common.js";
import { BENCH_KEYS, BENCH_OWNER, PODS } from "./pods.js";
import { atMost, percentile } from "./targets.js";

const WEBHOOK_NAME = "secrets.apolo.us";
const NOOP_NAME = "noop.bench.apolo.us";
const NOOP_LABEL = "bench.apolo.us/noop-webhook";
const MODES = ["webhook", "noop", "none"] as const;
type Mode = (typeof MODES)[number];
const NAMESPACE: Record<Mode, string> = { webhook: "bench-webhook", noop: "bench-noop", none: "bench-none" };

/** The chart's configuration, pointed at the no-op server and selecting only NOOP_LABEL namespaces. */
function registerNoop(cluster: LocalCluster, noop: Baseline): void {
  const configuration = JSON.parse(webhookConfiguration(noop.url, cluster.plane.ca.pem)) as {
    metadata: { name: string; labels?: Record<string, string> };
    webhooks: Array<{ name: string; namespaceSelector: { matchLabels?: Record<string, string> } }>;
  };
  configuration.metadata = { name: "bench-noop-webhook" };
  for (const webhook of configuration.webhooks) {
    webhook.name = NOOP_NAME;
    webhook.namespaceSelector.matchLabels = { [NOOP_LABEL]: "enabled" };
  }
  kubectl(cluster.plane, "admin", ["apply", "-f", "-"], JSON.stringify(configuration));
}

/** Sum of a metric's samples whose labels include `name="<webhook>"`. */
function sumMetric(text: string, metric: string, webhook: string): number {
  let sum = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(`${metric}{`) && line.includes(`name="${webhook}"`))
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  return sum;
}

const calls = (cluster: LocalCluster, webhook: string) =>
  sumMetric(
    apiServerMetrics(cluster),
    "apiserver_admission_webhook_admission_duration_seconds_count",
    webhook,
  );

/** Milliseconds per dry-run pod creation in each mode; the first tenth only warms up. */
async function createPods(cluster: LocalCluster): Promise<Record<Mode, number[]>> {
  const platform = client(cluster, "platform");
  const times: Record<Mode, number[]> = { webhook: [], noop: [], none: [] };
  const warmUp = Math.ceil(API_PODS / 10);
  for (let i = 0; i < warmUp + API_PODS; i++) {
    // Rotating order: no mode always runs first, right after the previous pod's work.
    for (let m = 0; m < MODES.length; m++) {
      const mode = MODES[(i + m) % MODES.length] as Mode;
      const pod = structuredClone(PODS.typical) as unknown as V1Pod;
      pod.metadata = { ...pod.metadata, name: `p-${mode}-${i}` };
      const started = performance.now();
      await platform.createNamespacedPod({ namespace: NAMESPACE[mode], body: pod, dryRun: "All" });
      if (i >= warmUp) times[mode].push(performance.now() - started);
    }
  }
  return times;
}

async function prepareNamespaces(cluster: LocalCluster, noop: Baseline): Promise<void> {
  const admin = client(cluster, "admin");
  await ensureNamespace(admin, NAMESPACE.webhook, { [SERVED_NAMESPACE_LABEL]: "enabled" });
  await ensureNamespace(admin, NAMESPACE.noop, { [NOOP_LABEL]: "enabled" });
  await ensureNamespace(admin, NAMESPACE.none);
  // The same store everywhere: only the webhook reads it, and every pod looks the same.
  for (const ns of Object.values(NAMESPACE))
    await admin.createNamespacedSecret({ namespace: ns, body: storeBody(BENCH_OWNER, BENCH_KEYS) });
  registerNoop(cluster, noop);
  const platform = client(cluster, "platform");
  // A new configuration reaches the API server's admission chain after a short lag.
  let n = 0;
  await waitFor(
    "the API server to call the no-op webhook",
    async () => {
      const pod = structuredClone(PODS.none) as unknown as V1Pod;
      pod.metadata = { ...pod.metadata, name: `probe-${n++}` };
      await platform.createNamespacedPod({ namespace: NAMESPACE.noop, body: pod, dryRun: "All" });
      return calls(cluster, NOOP_NAME) > 0 ? true : undefined;
    },
    30_000,
    300,
  );
}

function figures(times: Record<Mode, number[]>, metrics: string) {
  const p = (mode: Mode, q: number) => percentile(times[mode], q);
  const mean = (name: string) =>
    (sumMetric(metrics, "apiserver_admission_webhook_admission_duration_seconds_sum", name) /
      sumMetric(metrics, "apiserver_admission_webhook_admission_duration_seconds_count", name)) *
    1000;
  return {
    podsPerMode: times.webhook.length,
    dryRun: true,
    p50Ms: { webhook: p("webhook", 50), noop: p("noop", 50), none: p("none", 50) },
    p99Ms: { webhook: p("webhook", 99), noop: p("noop", 99), none: p("none", 99) },
    maxMs: { webhook: p("webhook", 100), noop: p("noop", 100), none: p("none", 100) },
    addedOverNoopP50Ms: p("webhook", 50) - p("noop", 50),
    addedOverNoopP99Ms: p("webhook", 99) - p("noop", 99),
    noopOverNoneP50Ms: p("noop", 50) - p("none", 50),
    noopOverNoneP99Ms: p("noop", 99) - p("none", 99),
    /** The API server's own mean duration of each webhook call (all calls, warm-up included). */
    apiServerMeanMs: { webhook: mean(WEBHOOK_NAME), noop: mean(NOOP_NAME) },
  };
}

export const apiServer: Benchmark = {
  name: "api-server",
  async run({ cluster }) {
    say(
      `\n2. Pod creation through the API server (dry run, ${API_PODS} pods each, interleaved): the webhook vs a no-op webhook (the baseline server registered the same way) vs no webhook`,
    );
    const noop = await startBaseline(cluster, "noop-webhook");
    try {
      await prepareNamespaces(cluster, noop);
      const result = figures(await createPods(cluster), apiServerMetrics(cluster));
      for (const mode of MODES)
        say(
          `   ${mode.padEnd(8)} p50 ${ms(result.p50Ms[mode])} p99 ${ms(result.p99Ms[mode])} max ${ms(result.maxMs[mode])} ms`,
        );
      say(
        `   webhook over no-op: p50 +${ms(result.addedOverNoopP50Ms)} ms, p99 +${ms(result.addedOverNoopP99Ms)} ms | no-op over none (any webhook call): p50 +${ms(result.noopOverNoneP50Ms)} ms, p99 +${ms(result.noopOverNoneP99Ms)} ms`,
      );
      say(
        `   the API server's own mean call: webhook ${ms(result.apiServerMeanMs.webhook)} ms, no-op ${ms(result.apiServerMeanMs.noop)} ms`,
      );
      const msFormat = (v: number) => `${v.toFixed(2)} ms`;
      const targets = [
        atMost(
          "API server: webhook's added latency over a no-op webhook, p50",
          result.addedOverNoopP50Ms,
          0.3,
          msFormat,
        ),
        atMost(
          "API server: webhook's added latency over a no-op webhook, p99",
          result.addedOverNoopP99Ms,
          2,
          msFormat,
        ),
      ];
      return { result, targets };
    } finally {
      kubectl(cluster.plane, "admin", [
        "delete",
        "mutatingwebhookconfiguration",
        "bench-noop-webhook",
        "--ignore-not-found",
      ]);
      await stopProcess(cluster.plane.pidFile, noop.name);
    }
  },
};
