// `make bench`: how fast, how big, against what. Every figure is measured in this run next to a
// baseline measured in the same run, and reported as a ratio; nothing here fails a build.
//
//  1. admission throughput and latency over HTTPS keep-alive, webhook vs a minimal HTTPS server,
//     for three pods at three concurrency levels, plus latency at half the maximum throughput;
//  2. pod creations through the real API server with and without the webhook in the path;
//  3. store scale: 1,000 and 10,000 owners with 20 keys each: sync time, RSS, lookup time;
//  4. a sustained run: RSS over time, errors.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { decodeReview } from "../src/admission/decode.js";
import { admit } from "../src/core/admit.js";
import { KubeClient, kubeconfigAccess } from "../src/kube/api-client.js";
import { StoreCache } from "../src/kube/store-cache.js";
import { USERS } from "../test/cluster/control-plane.js";
import { type LocalCluster, startLocalCluster, stopLocalCluster } from "../test/cluster/harness.js";
import { freePort, startProcess, stopProcess, waitFor, waitForReadyz } from "../test/cluster/processes.js";
import { prepareWebhook, SERVED_NAMESPACE_LABEL } from "../test/cluster/webhook.js";
import { issueCert } from "../test/support/certs.js";
import { postJson } from "../test/support/https-client.js";
import { metricValue } from "../test/support/metrics.js";
import { cpuMs, type LoadResult, wrk } from "./load.js";
import { BENCH_KEYS, BENCH_OWNER, PODS, review } from "./pods.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 150);
const SCALES = (process.env.BENCH_SCALES ?? "1000,10000").split(",").map(Number);
const CONCURRENCY = [1, 8, 32];
const ROOT = join(import.meta.dirname, "..");
const say = (line: string) => process.stdout.write(`${line}\n`);
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "-");

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

function client(cluster: LocalCluster, who: "admin" | "platform"): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.plane.kubeconfigs[who]);
  return kc.makeApiClient(CoreV1Api);
}

async function ensureNamespace(
  api: CoreV1Api,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  await api.createNamespace({ body: { metadata: { name, labels } } }).catch((e: unknown) => {
    if (!(e instanceof ApiException && e.code === 409)) throw e;
  });
  await api
    .createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: "default" } } })
    .catch((e: unknown) => {
      if (!(e instanceof ApiException && e.code === 409)) throw e;
    });
}

function storeBody(owner: string, keys: readonly string[]) {
  return {
    // Labelled as the secrets API labels stores: the webhook reads only labelled ones.
    metadata: { name: `user--${owner}--secrets`, labels: { "platform.apolo.us/secrets-store": "true" } },
    type: "Opaque",
    data: Object.fromEntries(
      keys.map((k) => [k, Buffer.from(`value of ${k} for ${owner}`).toString("base64")]),
    ),
  };
}

interface AdmissionRow {
  pod: string;
  concurrency: number;
  baseline: LoadResult & { cpuUsPerRequest: number };
  webhook: LoadResult & { cpuUsPerRequest: number };
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

async function admissionBench(cluster: LocalCluster, work: string) {
  say("\n1. Admission over HTTPS keep-alive: webhook vs a minimal Node HTTPS server (same requests)");
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

  const cert = issueCert(cluster.plane.ca, {
    name: "baseline",
    commonName: "baseline",
    ips: ["127.0.0.1"],
    usage: "server",
  });
  const basePort = await freePort();
  const baselineProcess = startProcess(cluster.dir, cluster.plane.pidFile, {
    name: "baseline",
    command: process.execPath,
    args: [
      "--import",
      "tsx",
      join(import.meta.dirname, "baseline-server.ts"),
      String(basePort),
      cert.certFile,
      cert.keyFile,
    ],
  });
  await waitFor(
    "the baseline server",
    async () =>
      (await fetch(`http://127.0.0.1:${basePort}`).catch((e: { cause?: { code?: string } }) =>
        e.cause?.code === "ECONNREFUSED" ? undefined : true,
      ))
        ? true
        : undefined,
    20_000,
  );

  const webhookUrl = cluster.webhook.url;
  const baselineUrl = `https://127.0.0.1:${basePort}/mutate`;
  const rows: AdmissionRow[] = [];
  for (const [name, pod] of Object.entries(PODS)) {
    const body = JSON.stringify(review(pod, "0f2d1c7e-bench"));
    // Check the webhook really does the work for this pod before timing it.
    const answer = await postJson(webhookUrl, JSON.parse(body), { ca: cluster.plane.ca.pem });
    const response = (answer.body as { response?: { allowed?: boolean; patch?: string } }).response;
    const operations = response?.patch
      ? (JSON.parse(Buffer.from(response.patch, "base64").toString()) as unknown[]).length
      : 0;
    if (!response?.allowed || (name !== "none") !== operations > 0)
      throw new Error(`the webhook answered ${answer.text.slice(0, 300)} for the ${name} pod`);
    say(`   ${name}: ${Buffer.byteLength(body)} bytes per review, ${operations} patch operations`);
    for (const connections of CONCURRENCY) {
      await wrk(webhookUrl, body, connections, 1, work); // warm-up
      await wrk(baselineUrl, body, connections, 1, work);
      const baseline = await measured(baselineUrl, body, connections, baselineProcess.pid, work);
      const webhook = await measured(webhookUrl, body, connections, webhookPid(cluster), work);
      const row = {
        pod: name,
        concurrency: connections,
        baseline,
        webhook,
        throughputRatio: webhook.rps / baseline.rps,
        capacityRatio: baseline.cpuUsPerRequest / webhook.cpuUsPerRequest,
      };
      rows.push(row);
      say(
        `   ${name.padEnd(8)} c=${String(connections).padEnd(3)} baseline ${baseline.rps.toFixed(0).padStart(6)}/s p50 ${ms(baseline.p50Ms)} p99 ${ms(baseline.p99Ms)} ms | webhook ${webhook.rps.toFixed(0).padStart(6)}/s p50 ${ms(webhook.p50Ms)} p99 ${ms(webhook.p99Ms)} max ${ms(webhook.maxMs)} ms | ratio ${row.throughputRatio.toFixed(2)} | CPU/req ${baseline.cpuUsPerRequest.toFixed(0)} vs ${webhook.cpuUsPerRequest.toFixed(0)} µs, capacity ratio ${row.capacityRatio.toFixed(2)}${webhook.errors + baseline.errors > 0 ? ` errors ${webhook.errors}/${baseline.errors}` : ""}`,
      );
    }
  }

  const typical = rows.filter((r) => r.pod === "typical");
  const best = typical.reduce((a, b) => (b.webhook.rps > a.webhook.rps ? b : a));
  const rate = Math.round(best.webhook.rps / 2);
  const body = JSON.stringify(review(PODS.typical, "0f2d1c7e-rate"));
  // 32 connections paced to half the maximum: the API server's own client spreads its calls too.
  say(
    `   typical pod at half the webhook's maximum throughput (${rate}/s over 32 paced connections, ${SECONDS * 2} s):`,
  );
  const webhookAtHalf = await wrk(webhookUrl, body, 32, SECONDS * 2, work, rate);
  const baselineAtHalf = await wrk(baselineUrl, body, 32, SECONDS * 2, work, rate);
  say(
    `   webhook ${webhookAtHalf.rps.toFixed(0)}/s p50 ${ms(webhookAtHalf.p50Ms)} p99 ${ms(webhookAtHalf.p99Ms)} max ${ms(webhookAtHalf.maxMs)} ms (errors ${webhookAtHalf.errors}) | baseline ${baselineAtHalf.rps.toFixed(0)}/s p50 ${ms(baselineAtHalf.p50Ms)} p99 ${ms(baselineAtHalf.p99Ms)} ms`,
  );
  await stopProcess(cluster.plane.pidFile, "baseline");
  return { rows, halfLoad: { rate, webhook: webhookAtHalf, baseline: baselineAtHalf } };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function apiServerBench(cluster: LocalCluster) {
  say("\n2. Pod creation through the API server, with and without the webhook in the path (same pods)");
  const admin = client(cluster, "admin");
  const platform = client(cluster, "platform");
  await ensureNamespace(admin, "bench-with", { [SERVED_NAMESPACE_LABEL]: "enabled" });
  await ensureNamespace(admin, "bench-without");
  for (const ns of ["bench-with", "bench-without"])
    await admin.createNamespacedSecret({ namespace: ns, body: storeBody(BENCH_OWNER, BENCH_KEYS) });
  await new Promise((r) => setTimeout(r, 1000));
  const times: Record<string, number[]> = { with: [], without: [] };
  const rounds = 8;
  const perRound = 25;
  let n = 0;
  for (let round = 0; round < rounds + 1; round++) {
    for (const mode of ["with", "without"] as const) {
      for (let i = 0; i < perRound; i++) {
        const pod = structuredClone(PODS.typical) as unknown as V1Pod;
        pod.metadata = { ...pod.metadata, name: `p-${n++}` };
        const started = performance.now();
        await platform.createNamespacedPod({ namespace: `bench-${mode}`, body: pod });
        // The first round warms connections and caches: not counted.
        if (round > 0) times[mode]?.push(performance.now() - started);
      }
    }
  }
  const w = times.with as number[];
  const wo = times.without as number[];
  const result = {
    pods: w.length,
    withP50Ms: percentile(w, 50),
    withP99Ms: percentile(w, 99),
    withoutP50Ms: percentile(wo, 50),
    withoutP99Ms: percentile(wo, 99),
    addedP50Ms: percentile(w, 50) - percentile(wo, 50),
    addedP99Ms: percentile(w, 99) - percentile(wo, 99),
    apiServerWebhookMeanMs: Number.NaN,
  };
  // The API server's own measurement of the webhook call.
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.plane.kubeconfigs.admin);
  const raw = await fetchRaw(cluster, "/metrics");
  const sum = sumMetric(
    raw,
    "apiserver_admission_webhook_admission_duration_seconds_sum",
    'name="secrets.apolo.us"',
  );
  const count = sumMetric(
    raw,
    "apiserver_admission_webhook_admission_duration_seconds_count",
    'name="secrets.apolo.us"',
  );
  result.apiServerWebhookMeanMs = (sum / count) * 1000;
  say(
    `   ${result.pods} pods each: with webhook p50 ${ms(result.withP50Ms)} p99 ${ms(result.withP99Ms)} ms | without p50 ${ms(result.withoutP50Ms)} p99 ${ms(result.withoutP99Ms)} ms`,
  );
  say(
    `   added by the webhook: p50 ${ms(result.addedP50Ms)} ms, p99 ${ms(result.addedP99Ms)} ms; the API server's own mean webhook call: ${ms(result.apiServerWebhookMeanMs)} ms`,
  );
  return result;
}

async function fetchRaw(cluster: LocalCluster, path: string): Promise<string> {
  const { execFileSync } = await import("node:child_process");
  return execFileSync(
    cluster.plane.tools.kubectl,
    ["--kubeconfig", cluster.plane.kubeconfigs.admin, "get", "--raw", path],
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

async function scaleBench(cluster: LocalCluster, work: string) {
  say(
    "\n3. Store scale: owners × 20 keys in the cache (a fresh webhook process per size, watching that namespace)",
  );
  const admin = client(cluster, "admin");
  const keys = Array.from({ length: 20 }, (_, i) => `secret_key_${i}`);
  const rows = [];
  const baselineNs = "scale-0";
  await ensureNamespace(admin, baselineNs);
  for (const owners of [0, ...SCALES]) {
    const ns = owners === 0 ? baselineNs : `scale-${owners}`;
    if (owners > 0) {
      await ensureNamespace(admin, ns);
      const started = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < owners) {
          const i = next++;
          await admin.createNamespacedSecret({ namespace: ns, body: storeBody(`owner-${i}`, keys) });
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      say(`   created ${owners} store Secrets in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    // The production process, confined to this namespace.
    const scaled = await prepareWebhook(cluster.plane, `scale-${owners}`);
    const metricsPort = scaled.metricsPort;
    const started = performance.now();
    const proc = startProcess(cluster.dir, cluster.plane.pidFile, {
      name: `scale-${owners}`,
      command: join(ROOT, "bin/apolo-secrets-webhook"),
      args: [...scaled.args, `--namespaces=${ns}`],
    });
    await waitForReadyz("the scale webhook to sync", metricsPort, proc, 120_000, 50);
    const readyS = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    const rss = rssMb(proc.pid);
    const cachedKeys = await metricValue(metricsPort, "apolo_secrets_webhook_store_cache_keys");
    await stopProcess(cluster.plane.pidFile, `scale-${owners}`);

    // Lookup and whole-admission cost against a cache of this size, in this process.
    let lookupNs = Number.NaN;
    let admitUs = Number.NaN;
    if (owners > 0) {
      const kube = new KubeClient(kubeconfigAccess(cluster.plane.kubeconfigs.webhook));
      const cache = new StoreCache(kube, {
        namespaces: [ns],
        labelSelectors: ["platform.apolo.us/secrets-store=true"],
        lookupTimeoutMs: 2000,
      });
      cache.start();
      await waitFor("the in-process cache", async () => (cache.synced ? true : undefined), 120_000, 50);
      const names = Array.from({ length: 1024 }, (_, i) => `user--owner-${(i * 7919) % owners}--secrets`);
      const loops = 1_000_000;
      let found = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < loops; i++)
        if (cache.keysOf(ns, names[i & 1023] as string)?.has("secret_key_7")) found++;
      lookupNs = Number(process.hrtime.bigint() - t0) / loops;
      if (found !== loops) throw new Error(`lookups found ${found} of ${loops}`);
      const pod = structuredClone(PODS.typical) as {
        metadata: { labels: Record<string, string> };
        spec: { containers: Array<{ env: Array<{ value?: string }> }> };
      };
      pod.metadata.labels["platform.apolo.us/user"] = "owner-42";
      for (const env of pod.spec.containers[0]?.env ?? [])
        if (env.value?.startsWith("secret:")) env.value = "secret:secret_key_3";
      (pod as unknown as { metadata: { annotations: Record<string, string> } }).metadata.annotations = {
        "platform.apolo.us/secret-volumes": '["secret:secret_key_4:/etc/f"]',
      };
      const decoded = decodeReview(review(pod as unknown as Record<string, unknown>, "u"));
      if (decoded.kind !== "review") throw new Error(decoded.message);
      decoded.request.namespace = ns;
      const policy = {
        scope: "user" as const,
        clusterName: undefined,
        trustedUsers: new Set([USERS.platform.name]),
        trustedGroups: new Set<string>(),
      };
      const t1 = process.hrtime.bigint();
      const admits = 100_000;
      for (let i = 0; i < admits; i++) {
        if (!admit(decoded.request, policy, cache).verdict.allowed)
          throw new Error("the scale admission was refused");
      }
      admitUs = Number(process.hrtime.bigint() - t1) / admits / 1000;
      cache.stop();
      kube.close();
    }
    const row = {
      owners,
      keysPerOwner: owners ? 20 : 0,
      cachedKeys,
      readySeconds: readyS,
      rssMb: rss,
      lookupNs,
      admitUs,
    };
    rows.push(row);
    say(
      `   ${String(owners).padStart(6)} owners: ready (listed and synced) in ${readyS.toFixed(2)} s, RSS ${rss.toFixed(1)} MB, ${cachedKeys} keys cached${owners ? `, lookup ${lookupNs.toFixed(0)} ns, whole admission ${admitUs.toFixed(1)} µs` : " (baseline: same process, empty namespace)"}`,
    );
  }
  void work;
  return rows;
}

function webhookPid(cluster: LocalCluster): number {
  const line = readFileSync(cluster.plane.pidFile, "utf8")
    .split("\n")
    .find((l) => l.startsWith("webhook "));
  return Number(line?.split(" ")[1]);
}

async function soakBench(cluster: LocalCluster, work: string) {
  say(
    `\n4. Sustained run: ${SOAK_SECONDS} s of typical-pod admissions at 8 connections, RSS sampled every 5 s`,
  );
  const pid = webhookPid(cluster);
  const samples: Array<{ t: number; rssMb: number }> = [];
  const started = performance.now();
  const body = JSON.stringify(review(PODS.typical, "soak"));
  const load = wrk(cluster.webhook.url, body, 8, SOAK_SECONDS, work);
  let done = false;
  void load.finally(() => {
    done = true;
  });
  while (!done) {
    samples.push({ t: (performance.now() - started) / 1000, rssMb: rssMb(pid) });
    await new Promise((r) => setTimeout(r, 5000));
  }
  const result = await load;
  // Least-squares slope over the second half: single samples swing with each garbage collection.
  const second = samples.filter((sample) => sample.t >= SOAK_SECONDS / 2);
  const meanT = second.reduce((a, b) => a + b.t, 0) / second.length;
  const meanR = second.reduce((a, b) => a + b.rssMb, 0) / second.length;
  const covariance = second.reduce((a, b) => a + (b.t - meanT) * (b.rssMb - meanR), 0);
  const variance = second.reduce((a, b) => a + (b.t - meanT) ** 2, 0);
  const slope = second.length > 2 && variance > 0 ? (covariance / variance) * 60 : Number.NaN;
  const out = {
    seconds: SOAK_SECONDS,
    requests: result.requests,
    rps: result.rps,
    errors: result.errors,
    p99Ms: result.p99Ms,
    rssFirstMb: samples[0]?.rssMb ?? Number.NaN,
    rssLastMb: samples.at(-1)?.rssMb ?? Number.NaN,
    rssMaxMb: Math.max(...samples.map((s) => s.rssMb)),
    rssSlopeSecondHalfMbPerMin: slope,
  };
  say(
    `   ${out.requests} admissions (${out.rps.toFixed(0)}/s), ${out.errors} errors, p99 ${ms(out.p99Ms)} ms; RSS ${out.rssFirstMb.toFixed(1)} → ${out.rssLastMb.toFixed(1)} MB (max ${out.rssMaxMb.toFixed(1)}), second-half slope ${out.rssSlopeSecondHalfMbPerMin.toFixed(2)} MB/min`,
  );
  return out;
}

async function main(): Promise<void> {
  const machine = {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
  say(
    `apolo-secrets-webhook benchmarks on ${machine.cores} × ${machine.cpu}, ${machine.memoryGb} GiB, Node ${machine.node}`,
  );
  const work = mkdtempSync(join(tmpdir(), "apolo-bench-"));
  // wrk cannot present a client certificate: the benchmarked webhook runs without client auth.
  const cluster = await startLocalCluster((line) => say(`   ${line}`), { clientAuth: false });
  try {
    const admission = await admissionBench(cluster, work);
    const apiServer = await apiServerBench(cluster);
    const soak = await soakBench(cluster, work);
    const scale = await scaleBench(cluster, work);
    const typical = admission.rows.filter((r) => r.pod === "typical");
    const bestRatio = Math.max(...typical.map((r) => r.throughputRatio));
    const bestCapacity = Math.max(...typical.map((r) => r.capacityRatio));
    const scale10k = scale.find((s) => s.owners === 10000);
    const targets = [
      [
        "typical-pod throughput ≥ 70% of the baseline (best concurrency)",
        `${(bestRatio * 100).toFixed(0)}% (on CPU per request: ${(bestCapacity * 100).toFixed(0)}%)`,
        bestRatio >= 0.7,
      ],
      [
        "p99 at half the maximum throughput < 5 ms",
        `${ms(admission.halfLoad.webhook.p99Ms)} ms`,
        admission.halfLoad.webhook.p99Ms < 5,
      ],
      [
        "added latency through the API server, p50 < 2 ms",
        `${ms(apiServer.addedP50Ms)} ms`,
        apiServer.addedP50Ms < 2,
      ],
      [
        "10,000 owners × 20 keys: RSS < 150 MB",
        scale10k ? `${scale10k.rssMb.toFixed(1)} MB` : "-",
        (scale10k?.rssMb ?? Number.POSITIVE_INFINITY) < 150,
      ],
      [
        "10,000 owners × 20 keys: sync < 10 s",
        scale10k ? `${scale10k.readySeconds.toFixed(2)} s` : "-",
        (scale10k?.readySeconds ?? Number.POSITIVE_INFINITY) < 10,
      ],
      [
        "lookups in microseconds",
        scale10k ? `${scale10k.lookupNs.toFixed(0)} ns` : "-",
        (scale10k?.lookupNs ?? Number.POSITIVE_INFINITY) < 1000,
      ],
      ["sustained run: no errors", `${soak.errors}`, soak.errors === 0],
    ] as const;
    say("\nTargets");
    for (const [what, value, met] of targets) say(`   ${met ? "met   " : "MISSED"} ${what}: ${value}`);
    const results = {
      machine,
      kubeVersion: cluster.plane.tools.kubeVersion,
      admission,
      apiServer,
      scale,
      soak,
      targets: targets.map(([what, value, met]) => ({ what, value, met })),
    };
    mkdirSync(join(import.meta.dirname, "results"), { recursive: true });
    const file = join(import.meta.dirname, "results", "latest.json");
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
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
