// 2. Pod creations through the real API server (server-side dry run: admission runs in full,
// nothing is written to etcd) in three namespaces, interleaved pod by pod in a rotating order:
//   webhook  served by the webhook (the chart's MutatingWebhookConfiguration, as in every test)
//   no-op    served by the baseline server registered the same way (same rules, failurePolicy,
//            timeout, TLS from the same CA, namespace selector on a label of its own)
//   patch    the baseline server again, answering the webhook's own patch for this pod: what
//            any webhook that mutates the pod this way costs (the API server decodes and applies
//            the patch, and validates the changed pod)
//   none     no webhook at all
// The webhook's added latency is its percentile minus the no-op's: what the webhook's work costs
// over the cost any webhook call has (the API server's TLS client, JSON round trip). Minus the
// patch mode's instead, it is the webhook's own work alone.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { kubectl } from "../test/cluster/control-plane.js";
import type { LocalCluster } from "../test/cluster/harness.js";
import { stopProcess, waitFor } from "../test/cluster/processes.js";
import { SERVED_NAMESPACE_LABEL, webhookConfiguration } from "../test/cluster/webhook.js";
import { postJson } from "../test/support/https-client.js";
import { metricValue } from "../test/support/metrics.js";
import { reviewFor } from "../test/support/review.js";
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
const PATCH_NAME = "patch.bench.apolo.us";
const PATCH_LABEL = "bench.apolo.us/patch-webhook";
const MODES = ["webhook", "noop", "patch", "none"] as const;
type Mode = (typeof MODES)[number];
const NAMESPACE: Record<Mode, string> = {
  webhook: "bench-webhook",
  noop: "bench-noop",
  patch: "bench-patch",
  none: "bench-none",
};

/** The chart's configuration, pointed at a baseline server and selecting only `label` namespaces. */
function registerBaseline(cluster: LocalCluster, server: Baseline, name: string, label: string): void {
  const configuration = JSON.parse(webhookConfiguration(server.url, cluster.plane.ca.pem)) as {
    metadata: { name: string; labels?: Record<string, string> };
    webhooks: Array<{ name: string; namespaceSelector: { matchLabels?: Record<string, string> } }>;
  };
  configuration.metadata = { name: `bench-${label.slice(label.indexOf("/") + 1)}` };
  for (const webhook of configuration.webhooks) {
    webhook.name = name;
    webhook.namespaceSelector.matchLabels = { [label]: "enabled" };
  }
  kubectl(cluster.plane, "admin", ["apply", "-f", "-"], JSON.stringify(configuration));
}

/** The webhook's own duration histogram (sum in seconds, count) and its live lookups so far. */
async function webhookOwnTime(
  cluster: LocalCluster,
): Promise<{ sum: number; count: number; lookups: number }> {
  const port = cluster.webhook.metricsPort;
  return {
    sum: await metricValue(port, "apolo_secrets_webhook_admission_duration_seconds_sum"),
    count: await metricValue(port, "apolo_secrets_webhook_admission_duration_seconds_count"),
    lookups: await metricValue(port, "apolo_secrets_webhook_live_lookups_total"),
  };
}

/** The webhook's own patch for the typical pod, in a file for the patch-answering baseline. */
async function webhookPatchFile(cluster: LocalCluster): Promise<string> {
  const submitter = { username: "platform-submitter", groups: ["apolo:platform"] };
  const probe = reviewFor(PODS.typical, "patch-probe", submitter, NAMESPACE.webhook);
  const answer = await postJson(cluster.webhook.url, probe, { ca: cluster.plane.ca.pem });
  const patch = (answer.body as { response?: { patch?: string } }).response?.patch;
  if (!patch)
    throw new Error(`the webhook answered no patch for the typical pod: ${answer.text.slice(0, 300)}`);
  const file = join(cluster.dir, "bench-typical-patch.b64");
  writeFileSync(file, patch);
  return file;
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
  const times: Record<Mode, number[]> = { webhook: [], noop: [], patch: [], none: [] };
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

/** The four namespaces with their stores, and the two baseline webhooks registered; returns the patching one. */
async function prepareNamespaces(cluster: LocalCluster, noop: Baseline): Promise<Baseline> {
  const admin = client(cluster, "admin");
  await ensureNamespace(admin, NAMESPACE.webhook, { [SERVED_NAMESPACE_LABEL]: "enabled" });
  await ensureNamespace(admin, NAMESPACE.noop, { [NOOP_LABEL]: "enabled" });
  await ensureNamespace(admin, NAMESPACE.patch, { [PATCH_LABEL]: "enabled" });
  await ensureNamespace(admin, NAMESPACE.none);
  // The same store everywhere: only the webhook reads it, and every pod looks the same.
  for (const ns of Object.values(NAMESPACE))
    await admin.createNamespacedSecret({ namespace: ns, body: storeBody(BENCH_OWNER, BENCH_KEYS) });
  // The webhook's patch needs the store in place (and the cache to have it): ask until it patches.
  const patchFile = await waitFor(
    "the webhook to patch the typical pod",
    async () => webhookPatchFile(cluster).catch(() => undefined),
    30_000,
    300,
  );
  const patcher = await startBaseline(cluster, "patch-webhook", { patchFile });
  registerBaseline(cluster, noop, NOOP_NAME, NOOP_LABEL);
  registerBaseline(cluster, patcher, PATCH_NAME, PATCH_LABEL);
  const platform = client(cluster, "platform");
  // A new configuration reaches the API server's admission chain after a short lag.
  let n = 0;
  for (const [mode, name] of [
    ["noop", NOOP_NAME],
    ["patch", PATCH_NAME],
  ] as const)
    await waitFor(
      `the API server to call the ${mode} webhook`,
      async () => {
        const pod = structuredClone(PODS.typical) as unknown as V1Pod;
        pod.metadata = { ...pod.metadata, name: `probe-${n++}` };
        await platform.createNamespacedPod({ namespace: NAMESPACE[mode], body: pod, dryRun: "All" });
        return calls(cluster, name) > 0 ? true : undefined;
      },
      30_000,
      300,
    );
  return patcher;
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
    p50Ms: { webhook: p("webhook", 50), noop: p("noop", 50), patch: p("patch", 50), none: p("none", 50) },
    p99Ms: { webhook: p("webhook", 99), noop: p("noop", 99), patch: p("patch", 99), none: p("none", 99) },
    maxMs: { webhook: p("webhook", 100), noop: p("noop", 100), patch: p("patch", 100), none: p("none", 100) },
    addedOverNoopP50Ms: p("webhook", 50) - p("noop", 50),
    addedOverNoopP99Ms: p("webhook", 99) - p("noop", 99),
    /** The webhook's own work: over a no-op answering the very same patch. */
    addedOverPatchP50Ms: p("webhook", 50) - p("patch", 50),
    addedOverPatchP99Ms: p("webhook", 99) - p("patch", 99),
    /** What applying the patch costs the API server, whoever answers it. */
    patchOverNoopP50Ms: p("patch", 50) - p("noop", 50),
    noopOverNoneP50Ms: p("noop", 50) - p("none", 50),
    noopOverNoneP99Ms: p("noop", 99) - p("none", 99),
    /** The API server's own mean duration of each webhook call (all calls, warm-up included). */
    apiServerMeanMs: { webhook: mean(WEBHOOK_NAME), noop: mean(NOOP_NAME), patch: mean(PATCH_NAME) },
  };
}

export const apiServer: Benchmark = {
  name: "api-server",
  async run({ cluster }) {
    say(
      `\n2. Pod creation through the API server (dry run, ${API_PODS} pods each, interleaved): the webhook vs a no-op webhook (the baseline server registered the same way) vs no webhook`,
    );
    const noop = await startBaseline(cluster, "noop-webhook");
    let patcher: Baseline | undefined;
    try {
      patcher = await prepareNamespaces(cluster, noop);
      const own = await webhookOwnTime(cluster);
      const result = figures(await createPods(cluster), apiServerMetrics(cluster));
      const ownAfter = await webhookOwnTime(cluster);
      const admissions = ownAfter.count - own.count;
      say(
        `   the webhook's own time per admission (its duration histogram): ${ms(((ownAfter.sum - own.sum) / admissions) * 1000)} ms over ${admissions} admissions, ${ownAfter.lookups - own.lookups} live lookups`,
      );
      for (const mode of MODES)
        say(
          `   ${mode.padEnd(8)} p50 ${ms(result.p50Ms[mode])} p99 ${ms(result.p99Ms[mode])} max ${ms(result.maxMs[mode])} ms`,
        );
      say(
        `   webhook over no-op: p50 +${ms(result.addedOverNoopP50Ms)} ms, p99 +${ms(result.addedOverNoopP99Ms)} ms | no-op over none (any webhook call): p50 +${ms(result.noopOverNoneP50Ms)} ms, p99 +${ms(result.noopOverNoneP99Ms)} ms`,
      );
      say(
        `   webhook over a no-op answering the same patch (the webhook's own work): p50 +${ms(result.addedOverPatchP50Ms)} ms, p99 +${ms(result.addedOverPatchP99Ms)} ms | that patch over no-op (the API server applying it): p50 +${ms(result.patchOverNoopP50Ms)} ms`,
      );
      say(
        `   the API server's own mean call: webhook ${ms(result.apiServerMeanMs.webhook)} ms, no-op ${ms(result.apiServerMeanMs.noop)} ms, same patch ${ms(result.apiServerMeanMs.patch)} ms`,
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
        "bench-patch-webhook",
        "--ignore-not-found",
      ]);
      await stopProcess(cluster.plane.pidFile, noop.name);
      if (patcher) await stopProcess(cluster.plane.pidFile, patcher.name);
    }
  },
};
