// Shared by the benchmarks: settings from the environment, output, the cluster clients, store
// Secrets, process figures from /proc, and the shape every benchmark returns.

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { parse } from "yaml";
import { userStoreName } from "../src/core/owner.js";
import type { LocalCluster } from "../test/cluster/harness.js";
import type { Target } from "./targets.js";

export { median, percentile, type Target } from "./targets.js";

/** A positive whole number from the environment, or the default; anything else is an error. */
function setting(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name}=${text} is not a positive whole number: unset it for ${fallback}`);
  return value;
}

/** Seconds of load per measurement in the admission benchmark. */
export const SECONDS = setting("BENCH_SECONDS", 3);
/** Rounds of baseline, floor and webhook per pod and concurrency; figures are medians over rounds. */
export const ROUNDS = setting("BENCH_ROUNDS", 3);
/** Seconds of the sustained run, for each of the webhook and the baseline. */
export const SOAK_SECONDS = setting("BENCH_SOAK_SECONDS", 120);
/** Pod creations per webhook in the API-server benchmark (after a warm-up of a tenth). */
export const API_PODS = setting("BENCH_API_PODS", 2000);
export const SCALES = (process.env.BENCH_SCALES ?? "1000,10000,100000")
  .split(",")
  .filter((s) => s !== "")
  .map(Number);
export const STORE_SELECTOR = "platform.apolo.us/secrets-store=true";

/**
 * The chart's `webhook.nodeOptions` (V8 heap flags): the bench's webhook processes run with them,
 * as a deployed webhook does; the baseline and floor servers run plain Node.
 */
export function chartNodeOptions(): string {
  const file = join(import.meta.dirname, "../charts/apolo-secrets-webhook/values.yaml");
  const values = parse(readFileSync(file, "utf8")) as { webhook?: { nodeOptions?: unknown } };
  const options = values.webhook?.nodeOptions;
  if (typeof options !== "string") throw new Error(`${file} has no webhook.nodeOptions string`);
  return options;
}

/**
 * The environment of a webhook process the bench starts: the chart's NODE_OPTIONS, or
 * BENCH_WEBHOOK_NODE_OPTIONS when set (" " for none: to compare other heap flags).
 */
export const webhookEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  NODE_OPTIONS: process.env.BENCH_WEBHOOK_NODE_OPTIONS ?? chartNodeOptions(),
});

export const say = (line: string) => process.stdout.write(`${line}\n`);
export const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "-");

/** What a benchmark runs against: the local cluster with the webhook, and a scratch folder. */
export interface BenchContext {
  cluster: LocalCluster;
  work: string;
}

export interface Benchmark {
  /** The name BENCH_ONLY picks it by, and its key in the results file. */
  name: string;
  run(context: BenchContext): Promise<{ result: unknown; targets: Target[] }>;
}

function statusMb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** Resident memory now, MB (Linux /proc). */
export const rssMb = (pid: number) => statusMb(pid, "VmRSS");
/** Peak resident memory since the process started or since resetPeakRss, MB. */
export const peakRssMb = (pid: number) => statusMb(pid, "VmHWM");

/** Resets a process's VmHWM to its current RSS (Linux ≥ 4.0: `5` to /proc/PID/clear_refs). */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

export function webhookPid(cluster: LocalCluster): number {
  const line = readFileSync(cluster.plane.pidFile, "utf8")
    .split("\n")
    .find((l) => l.startsWith("webhook "));
  return Number(line?.split(" ")[1]);
}

/** The API server's own metrics (Prometheus text), as the admin reads them. */
export function apiServerMetrics(cluster: LocalCluster): string {
  return execFileSync(
    cluster.plane.tools.kubectl,
    ["--kubeconfig", cluster.plane.kubeconfigs.admin, "get", "--raw", "/metrics"],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  );
}

export function client(cluster: LocalCluster, who: "admin" | "platform"): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.plane.kubeconfigs[who]);
  return kc.makeApiClient(CoreV1Api);
}

const ignoreConflict = (e: unknown) => {
  if (!(e instanceof ApiException && e.code === 409)) throw e;
};

export async function ensureNamespace(
  api: CoreV1Api,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  await api.createNamespace({ body: { metadata: { name, labels } } }).catch(ignoreConflict);
  await api
    .createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: "default" } } })
    .catch(ignoreConflict);
}

export function storeBody(owner: string, keys: readonly string[]) {
  return {
    // Labelled as the secrets API labels stores: the webhook reads only labelled ones.
    metadata: { name: userStoreName(owner), labels: { "platform.apolo.us/secrets-store": "true" } },
    type: "Opaque",
    data: Object.fromEntries(
      keys.map((k) => [k, Buffer.from(`value of ${k} for ${owner}`).toString("base64")]),
    ),
  };
}
