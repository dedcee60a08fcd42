// Load generators: wrk (closed loop, fixed connections: maximum throughput and its latency) and
// a small open-loop client (fixed rate: latency at a given load, measured from each request's
// scheduled time so that a stall is not hidden).

import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface LoadResult {
  requests: number;
  rps: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** wrk with `connections` connections over 1 or 2 threads for `seconds`. */
export async function wrk(
  url: string,
  body: string,
  connections: number,
  seconds: number,
  dir: string,
): Promise<LoadResult> {
  const bodyFile = join(dir, `body-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(bodyFile, body);
  // One wrk thread: on two cores the server under test gets the other one.
  const threads = 1;
  const { stdout } = await run(
    "wrk",
    [
      "-t",
      String(threads),
      "-c",
      String(connections),
      "-d",
      `${seconds}s`,
      "--timeout",
      "10s",
      "-s",
      join(import.meta.dirname, "wrk-report.lua"),
      url,
      "--",
      bodyFile,
    ],
    { maxBuffer: 1 << 20 },
  );
  const line = stdout.split("\n").find((l) => l.startsWith("{"));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
  const r = JSON.parse(line) as {
    requests: number;
    durationUs: number;
    errors: number;
    p50Us: number;
    p99Us: number;
    maxUs: number;
  };
  return {
    requests: r.requests,
    rps: r.requests / (r.durationUs / 1e6),
    errors: r.errors,
    p50Ms: r.p50Us / 1000,
    p99Ms: r.p99Us / 1000,
    maxMs: r.maxUs / 1000,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Sends `rate` requests per second for `seconds`, whatever the answers' pace (bounded: rate × seconds requests). */
export async function openLoop(
  url: string,
  body: string,
  ca: string,
  rate: number,
  seconds: number,
): Promise<LoadResult & { achievedRate: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  const send = (scheduled: number) =>
    new Promise<void>((resolve) => {
      const req = request(
        url,
        {
          method: "POST",
          agent,
          ca,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode !== 200) errors++;
            latencies.push(performance.now() - scheduled);
            resolve();
          });
        },
      );
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - started) / 1000) * rate) + 1);
    while (sent < due) {
      pending.push(send(started + (sent / rate) * 1000));
      sent++;
    }
    // A 1 ms tick: spinning would take the core the server under test needs.
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: total,
    rps: latencies.length / elapsed,
    achievedRate: total / elapsed,
    errors,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? Number.NaN,
  };
}

/** CPU time (user + system) a process has used so far, in milliseconds (Linux /proc). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name; clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
