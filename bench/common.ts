// Shared by the benchmarks: settings from the environment, output, the cluster clients, store
// Secrets, process figures from /proc, and the shape every benchmark returns.

import { readFileSync } from "node:fs";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { userStoreName } from "../src/core/owner.js";
import type { LocalCluster } from "../test/cluster/harness.js";

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
export const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 150);
export const SCALES = (process.env.BENCH_SCALES ?? "1000,10000").split(",").map(Number);
export const STORE_SELECTOR = "platform.apolo.us/secrets-store=true";

export const say = (line: string) => process.stdout.write(`${line}\n`);
export const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "-");

/** What a benchmark runs against: the local cluster with the webhook, and a scratch folder. */
export interface BenchContext {
  cluster: LocalCluster;
  work: string;
}

export interface Target {
  what: string;
  value: string;
  /** undefined: not measured in this run (a smaller BENCH_SCALES). */
  met: boolean | undefined;
}

export interface Benchmark {
  /** The name BENCH_ONLY picks it by, and its key in the results file. */
  name: string;
  run(context: BenchContext): Promise<{ result: unknown; targets: Target[] }>;
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

export function webhookPid(cluster: LocalCluster): number {
  const line = readFileSync(cluster.plane.pidFile, "utf8")
    .split("\n")
    .find((l) => l.startsWith("webhook "));
  return Number(line?.split(" ")[1]);
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
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
