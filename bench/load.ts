// Load generation with wrk (a C load generator: on two cores it leaves the server one): fixed
// connections for maximum throughput, or paced connections for latency at a given rate.

import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
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

/**
 * wrk with `connections` connections for `seconds`. With `rate`, each connection pauses between
 * requests so that all of them together send about `rate` per second (closed loop with pacing:
 * a stall delays later requests instead of piling them up, so long stalls are under-counted).
 */
export async function wrk(
  url: string,
  body: string,
  connections: number,
  seconds: number,
  dir: string,
  rate?: number,
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
      String(rate ? Math.floor((connections * 1000) / rate) : 0),
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

/** CPU time (user + system) a process has used so far, in milliseconds (Linux /proc). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name; clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
