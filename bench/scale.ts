// 4. Store scale: 1,000, 10,000 and 100,000 owners (BENCH_SCALES) with 20 keys each. Per size: the
// production process confined to that namespace (time to list and sync, RSS, keys cached), then
// a cache in this process for the cost of one lookup and of a whole admission. Up to 10,000
// stores are created through the API server; more are written to etcd in batches (etcd-stores.ts).

import { join } from "node:path";
import { decodeReview } from "../src/admission/decode.js";
import type { AdmissionRequest } from "../src/admission/types.js";
import { admit } from "../src/core/admit.js";
import { userStoreName } from "../src/core/owner.js";
import { kubeClientFor } from "../src/kube/api-client.js";
import { StoreCache } from "../src/kube/store-cache.js";
import { USERS } from "../test/cluster/control-plane.js";
import type { LocalCluster } from "../test/cluster/harness.js";
import { startProcess, stopProcess, waitFor, waitForReadyz } from "../test/cluster/processes.js";
import { prepareWebhook } from "../test/cluster/webhook.js";
import { metricValue } from "../test/support/metrics.js";
import {
  apiServerMetrics,
  type Benchmark,
  client,
  ensureNamespace,
  rssMb,
  SCALES,
  STORE_SELECTOR,
  say,
  storeBody,
} from "./common.js";
import { writeStoresToEtcd } from "./etcd-stores.js";
import { PODS, review } from "./pods.js";
import { atMost, growth } from "./targets.js";

const ROOT = join(import.meta.dirname, "..");
const KEYS = Array.from({ length: 20 }, (_, i) => `secret_key_${i}`);
const LOOKUPS = 1_000_000;
const ADMISSIONS = 100_000;

/** Sizes up to this are created through the API server; larger ones are written to etcd (etcd-stores.ts). */
const THROUGH_API_MAX = 10_000;

/** The resource version of the API server's watch cache of Secrets (its own metric). */
function watchCacheRevision(cluster: LocalCluster): number {
  const metrics = apiServerMetrics(cluster);
  const line = metrics
    .split("\n")
    .find((l) => l.startsWith("apiserver_watch_cache_resource_version{") && l.includes('resource="secrets"'));
  return Number(line?.slice(line.lastIndexOf(" ") + 1) ?? 0);
}

async function createStores(cluster: LocalCluster, ns: string, owners: number) {
  const admin = client(cluster, "admin");
  await ensureNamespace(admin, ns);
  const started = performance.now();
  const method = owners <= THROUGH_API_MAX ? "API server" : "etcd batch";
  let caughtUp = "";
  if (method === "etcd batch") {
    const revision = await writeStoresToEtcd(cluster.plane.etcdUrl, ns, owners, KEYS);
    const written = performance.now();
    // The API server learns of the writes through its watch on etcd; the webhook's sync is timed
    // from when its watch cache holds them, as it would after Secrets created through it.
    await waitFor(
      "the API server's watch cache to reach the written revision",
      async () => (watchCacheRevision(cluster) >= revision ? true : undefined),
      600_000,
      1000,
    );
    caughtUp = `, the API server's watch cache held them ${((performance.now() - written) / 1000).toFixed(1)} s later`;
  } else {
    let next = 0;
    const worker = async () => {
      while (next < owners) {
        const i = next++;
        await admin.createNamespacedSecret({ namespace: ns, body: storeBody(`owner-${i}`, KEYS) });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  }
  const seconds = (performance.now() - started) / 1000;
  // Read one back through the API server: the stores are there as any client sees them.
  const last = userStoreName(`owner-${owners - 1}`);
  const read = await admin.readNamespacedSecret({ namespace: ns, name: last });
  if (Object.keys(read.data ?? {}).length !== KEYS.length)
    throw new Error(`the API server returned ${ns}/${last} without its ${KEYS.length} keys`);
  say(
    `   created ${owners} store Secrets (${method}) in ${seconds.toFixed(1)} s (${(owners / seconds).toFixed(0)}/s)${caughtUp}`,
  );
  return { method, createSeconds: seconds };
}

/** The production process, confined to the namespace: seconds to ready, RSS, keys cached. */
async function processFigures(cluster: LocalCluster, owners: number, ns: string) {
  const scaled = await prepareWebhook(cluster.plane, `scale-${owners}`);
  const started = performance.now();
  const proc = startProcess(cluster.dir, cluster.plane.pidFile, {
    name: `scale-${owners}`,
    command: join(ROOT, "bin/apolo-secrets-webhook"),
    args: [...scaled.args, `--namespaces=${ns}`],
  });
  await waitForReadyz("the scale webhook to sync", scaled.metricsPort, proc, 120_000, 50);
  const readySeconds = (performance.now() - started) / 1000;
  // Let the initial sync's garbage be collected before reading RSS.
  await new Promise((r) => setTimeout(r, 2000));
  const rss = rssMb(proc.pid);
  const cachedKeys = await metricValue(scaled.metricsPort, "apolo_secrets_webhook_store_cache_keys");
  await stopProcess(cluster.plane.pidFile, `scale-${owners}`);
  return { readySeconds, rssMb: rss, cachedKeys };
}

/** A typical pod of owner-42 in the namespace, referring to keys every store has. */
function scaleRequest(ns: string): AdmissionRequest {
  const pod = structuredClone(PODS.typical) as {
    metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
    spec: { containers: Array<{ env: Array<{ value?: string }> }> };
  };
  pod.metadata.labels["platform.apolo.us/user"] = "owner-42";
  for (const env of pod.spec.containers[0]?.env ?? [])
    if (env.value?.startsWith("secret:")) env.value = "secret:secret_key_3";
  pod.metadata.annotations = { "platform.apolo.us/secret-volumes": '["secret:secret_key_4:/etc/f"]' };
  const decoded = decodeReview(review(pod as unknown as Record<string, unknown>, "u"));
  if (decoded.kind !== "review") throw new Error(decoded.message);
  decoded.request.namespace = ns;
  return decoded.request;
}

/** A cache of this size in this process: nanoseconds per lookup, microseconds per admission. */
async function lookupFigures(cluster: LocalCluster, owners: number, ns: string) {
  const kube = kubeClientFor(cluster.plane.kubeconfigs.webhook, undefined);
  const cache = new StoreCache(kube, {
    namespaces: [ns],
    labelSelectors: [STORE_SELECTOR],
    lookupTimeoutMs: 2000,
  });
  cache.start();
  try {
    await waitFor("the in-process cache", async () => (cache.synced ? true : undefined), 120_000, 50);
    const names = Array.from({ length: 1024 }, (_, i) => userStoreName(`owner-${(i * 7919) % owners}`));
    let found = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < LOOKUPS; i++)
      if (cache.keysOf(ns, names[i & 1023] as string)?.has("secret_key_7")) found++;
    const lookupNs = Number(process.hrtime.bigint() - t0) / LOOKUPS;
    if (found !== LOOKUPS) throw new Error(`lookups found ${found} of ${LOOKUPS}`);
    const request = scaleRequest(ns);
    const policy = {
      scope: "user" as const,
      clusterName: undefined,
      trustedUsers: new Set([USERS.platform.name]),
      trustedGroups: new Set<string>(),
      trustedControllers: new Set<string>(),
    };
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < ADMISSIONS; i++)
      if (!admit(request, policy, cache).verdict.allowed) throw new Error("the scale admission was refused");
    const admitUs = Number(process.hrtime.bigint() - t1) / ADMISSIONS / 1000;
    return { lookupNs, admitUs };
  } finally {
    await cache.stop();
    kube.close();
  }
}

async function scaleRow(cluster: LocalCluster, owners: number) {
  // Size 0 is the baseline: the same process watching an empty namespace.
  const ns = `scale-${owners}`;
  let created = { method: "none", createSeconds: 0 };
  if (owners > 0) created = await createStores(cluster, ns, owners);
  else await ensureNamespace(client(cluster, "admin"), ns);
  const figures = await processFigures(cluster, owners, ns);
  const lookups =
    owners > 0 ? await lookupFigures(cluster, owners, ns) : { lookupNs: Number.NaN, admitUs: Number.NaN };
  const row = { owners, keysPerOwner: owners ? KEYS.length : 0, ...created, ...figures, ...lookups };
  say(
    `   ${String(owners).padStart(6)} owners: ready (listed and synced) in ${row.readySeconds.toFixed(2)} s, RSS ${row.rssMb.toFixed(1)} MB, ${row.cachedKeys} keys cached${owners ? `, lookup ${row.lookupNs.toFixed(0)} ns, whole admission ${row.admitUs.toFixed(1)} µs` : " (baseline: same process, empty namespace)"}`,
  );
  return row;
}

export const scale: Benchmark = {
  name: "scale",
  async run({ cluster }) {
    say(
      "\n4. Store scale: owners × 20 keys in the cache (a fresh webhook process per size, watching that namespace)",
    );
    const rows = [];
    for (const owners of [0, ...SCALES]) rows.push(await scaleRow(cluster, owners));
    const slope = growth(rows);
    if (slope)
      say(
        `   growth from ${slope.from} to ${slope.to} owners: ${slope.rssKbPerOwner.toFixed(2)} KB of RSS and ${slope.syncMsPerOwner.toFixed(3)} ms of sync per owner (20 keys)`,
      );
    // The targets are set at 10,000 owners: with a smaller BENCH_SCALES they are not measured.
    const at10k = rows.find((row) => row.owners === 10_000);
    const targets = [
      atMost("store cache, 10,000 owners × 20 keys: RSS", at10k?.rssMb, 150, (v) => `${v.toFixed(1)} MB`),
      atMost(
        "store cache, 10,000 owners × 20 keys: sync",
        at10k?.readySeconds,
        10,
        (v) => `${v.toFixed(2)} s`,
      ),
      atMost(
        "store cache, 10,000 owners × 20 keys: one lookup",
        at10k?.lookupNs,
        1000,
        (v) => `${v.toFixed(0)} ns`,
      ),
    ];
    return { result: { rows, growth: slope }, targets };
  },
};
