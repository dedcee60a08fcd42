// The request path's cost without a cluster: the webhook's request path (profile-server.ts) and
// the baseline server, each in its own process, under the same wrk load; prints each one's CPU
// time per request (from /proc: steadier than requests per second on a shared machine, though a
// busy machine's cold caches still raise it), peak RSS and, with --cpu-prof, the functions with
// the most self time in the webhook.
//
//   tsx bench/profile.ts                 every pod at 1, 8 and 32 connections
//   PROFILE_PODS=large PROFILE_CONNECTIONS=8 PROFILE_SECONDS=5 PROFILE_CPU=1 tsx bench/profile.ts
//   PROFILE_NODE_FLAGS="--max-semi-space-size=8 --trace-gc" …   flags for the webhook's node
//   PROFILE_FROM=/tmp/old/dist …   the webhook from another build (e.g. of main), to compare
//   PROFILE_THREADS=1 …   CPU per request of each thread (the event loop, V8's helpers, libuv's)
//
// Not part of `make bench` (that one runs the real `serve` against a real API server).

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../test/cluster/processes.js";
import { createCa, issueCert } from "../test/support/certs.js";
import { cpuMs, wrk } from "./load.js";
import { PODS, review } from "./pods.js";

const env = process.env;
const SECONDS = Number(env.PROFILE_SECONDS ?? 3);
const PODS_RUN = (env.PROFILE_PODS ?? "typical,none,large").split(",") as (keyof typeof PODS)[];
const CONNECTIONS = (env.PROFILE_CONNECTIONS ?? "1,8,32").split(",").map(Number);
const CPU_PROFILE = env.PROFILE_CPU === "1";
const NODE_FLAGS = (env.PROFILE_NODE_FLAGS ?? "").split(" ").filter((f) => f !== "");
const BASELINE = env.PROFILE_BASELINE !== "0";
// PROFILE_THREADS=1: each server's CPU per request split by thread (event loop, GC helpers, libuv).
const THREADS = env.PROFILE_THREADS === "1";
// Requests per second over all connections (paced); unset: as fast as each server answers. At a
// fixed rate both servers handle the same number of requests per event-loop turn, so their CPU
// per request compares like for like (a slower server otherwise pays more wake-ups per request).
const RATE = env.PROFILE_RATE === undefined ? undefined : Number(env.PROFILE_RATE);

const say = (line: string) => process.stdout.write(`${line}\n`);
const work = mkdtempSync(join(tmpdir(), "apolo-profile-"));
const ca = createCa(work, "profile-ca");
const cert = issueCert(ca, { name: "server", commonName: "server", ips: ["127.0.0.1"], usage: "server" });

interface Running {
  child: ChildProcess;
  url: string;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function start(which: "webhook" | "baseline"): Promise<Running> {
  const port = await freePort();
  const script =
    which === "webhook"
      ? (env.PROFILE_SERVER ?? join(import.meta.dirname, "profile-server.ts"))
      : join(import.meta.dirname, "baseline-server.ts");
  const profiled = CPU_PROFILE && (which === "webhook" || env.PROFILE_BASELINE_CPU === "1");
  const flags = [
    ...(which === "webhook" ? NODE_FLAGS : []),
    ...(profiled ? ["--cpu-prof", "--cpu-prof-dir", join(work, which)] : []),
    // The baseline has no SIGTERM handler of its own: exit cleanly so that its profile is written.
    ...(which === "baseline"
      ? ["--import", 'data:text/javascript,process.once("SIGTERM",()=>process.exit(0))']
      : []),
  ];
  mkdirSync(join(work, which), { recursive: true });
  const out = openSync(join(work, `${which}.log`), "a");
  const child = spawn(
    process.execPath,
    [...flags, "--import", "tsx", script, String(port), cert.certFile, cert.keyFile],
    {
      stdio: ["ignore", out, out],
    },
  );
  for (let i = 0; i < 200 && !(await portOpen(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return { child, url: `https://127.0.0.1:${port}/mutate` };
}

async function stop(running: Running): Promise<void> {
  const exited = new Promise((resolve) => running.child.once("exit", resolve));
  running.child.kill("SIGTERM");
  await exited;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const line = status.split("\n").find((l) => l.startsWith("VmHWM:")) ?? "";
  return Number(line.replace("VmHWM:", "").replace("kB", "").trim()) / 1024;
}

/** CPU ms of each thread of the process, by thread name: what runs besides the event loop. */
function threadCpuMs(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10);
  }
  return byName;
}

async function measure(server: Running, body: string, connections: number) {
  const pid = server.child.pid as number;
  await wrk(server.url, body, connections, 1, work, RATE); // warm-up
  const before = cpuMs(pid);
  const threadsBefore = THREADS ? threadCpuMs(pid) : undefined;
  const result = await wrk(server.url, body, connections, SECONDS, work, RATE);
  const cpuUs = ((cpuMs(pid) - before) * 1000) / result.requests;
  if (threadsBefore) {
    const shares = [...threadCpuMs(pid)].map(
      ([name, ms]) =>
        `${name} ${(((ms - (threadsBefore.get(name) ?? 0)) * 1000) / result.requests).toFixed(1)}`,
    );
    say(`   CPU µs per request by thread (pid ${pid}): ${shares.join(", ")}`);
  }
  return { rps: result.rps, cpuUs, p99: result.p99Ms, errors: result.errors };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** The functions with the most self time in the newest profile, as shares of all samples. */
function printTopFunctions(which: string, count: number): void {
  const dir = join(work, which);
  const file = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .sort()
    .pop();
  if (!file) return;
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as { nodes: ProfileNode[] };
  const self = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = `${functionName || "(anonymous)"} ${url.replace(/^.*\/(node_modules|src|bench)\//, "$1/")}:${lineNumber + 1}`;
    self.set(where, (self.get(where) ?? 0) + hits);
    total += hits;
  }
  say(`   ${which}: top self time (${total} samples, ${join(dir, file)}):`);
  for (const [where, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    say(`   ${((hits / total) * 100).toFixed(1).padStart(5)} %  ${where}`);
  }
}

async function main(): Promise<void> {
  const rows: unknown[] = [];
  const pace = RATE === undefined ? "unpaced" : `paced to ${RATE}/s`;
  say(
    `webhook node flags: ${NODE_FLAGS.join(" ") || "(none)"}; ${SECONDS} s per point, ${pace}; CPU µs per request`,
  );
  for (const pod of PODS_RUN) {
    const body = JSON.stringify(review(PODS[pod], "0f2d1c7e-bench"));
    const webhook = await start("webhook");
    const baseline = BASELINE ? await start("baseline") : undefined;
    for (const connections of CONNECTIONS) {
      const w = await measure(webhook, body, connections);
      const b = baseline ? await measure(baseline, body, connections) : undefined;
      const base = b ? `baseline ${b.cpuUs.toFixed(1)} µs ${b.rps.toFixed(0)}/s | ` : "";
      const ratio = b ? ` | CPU ratio ${(w.cpuUs / b.cpuUs).toFixed(2)}` : "";
      say(
        `${pod.padEnd(8)} c=${String(connections).padEnd(3)} ${base}webhook ${w.cpuUs.toFixed(1)} µs ${w.rps.toFixed(0)}/s p99 ${w.p99.toFixed(2)} ms${ratio}${w.errors ? ` errors ${w.errors}` : ""}`,
      );
      rows.push({ pod, connections, webhook: w, baseline: b });
    }
    const rss = `peak RSS webhook ${peakRssMb(webhook.child.pid as number).toFixed(0)} MB`;
    say(`   ${rss}${baseline ? `, baseline ${peakRssMb(baseline.child.pid as number).toFixed(0)} MB` : ""}`);
    await stop(webhook);
    if (baseline) await stop(baseline);
    if (CPU_PROFILE) printTopFunctions("webhook", Number(env.PROFILE_TOP ?? 30));
    if (CPU_PROFILE && env.PROFILE_BASELINE_CPU === "1") printTopFunctions("baseline", 12);
  }
  writeFileSync(join(work, "profile.json"), JSON.stringify(rows, null, 2));
  say(`logs, profiles and profile.json in ${work}`);
}

await main();
