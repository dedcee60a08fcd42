// Child processes of the harness: each in its own process group, recorded in a pid file that a
// watchdog reads to kill them all if the test runner dies. Output goes to a log file per process.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface Managed {
  name: string;
  pid: number;
  logFile: string;
  exited: Promise<number | null>;
}

function readPids(pidFile: string): Map<string, number> {
  const pids = new Map<string, number>();
  if (!existsSync(pidFile)) return pids;
  for (const line of readFileSync(pidFile, "utf8").split("\n")) {
    const [name, pid] = line.trim().split(" ");
    if (name && pid) pids.set(name, Number(pid));
  }
  return pids;
}

function writePids(pidFile: string, pids: Map<string, number>): void {
  writeFileSync(pidFile, [...pids].map(([name, pid]) => `${name} ${pid}\n`).join(""));
}

/** Starts the watchdog for this runner process. */
export function startWatchdog(dir: string, pidFile: string): ChildProcess {
  const watchdog = spawn("bash", [join(import.meta.dirname, "watchdog.sh"), String(process.pid), pidFile], {
    detached: true,
    stdio: "ignore",
  });
  watchdog.unref();
  writeFileSync(join(dir, "watchdog.pid"), String(watchdog.pid));
  return watchdog;
}

export function startProcess(dir: string, pidFile: string, spec: ProcessSpec): Managed {
  const logFile = join(dir, `${spec.name}.log`);
  const fd = openSync(logFile, "a");
  const child = spawn(spec.command, spec.args, {
    detached: true, // its own process group, so a kill reaches its children too
    stdio: ["ignore", fd, fd],
    env: spec.env ?? process.env,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
  child.unref();
  const pids = readPids(pidFile);
  pids.set(spec.name, child.pid);
  writePids(pidFile, pids);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal ? -1 : null)));
    child.once("error", () => resolve(-1));
  });
  return { name: spec.name, pid: child.pid, logFile, exited };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals a process group and waits until its leader is gone (SIGKILL after graceMs). */
export async function stopProcess(
  pidFile: string,
  name: string,
  signal: NodeJS.Signals = "SIGTERM",
  graceMs = 10_000,
): Promise<void> {
  const pids = readPids(pidFile);
  const pid = pids.get(name);
  if (pid === undefined) return;
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  send(signal);
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) {
    send("SIGKILL");
    while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
  pids.delete(name);
  writePids(pidFile, pids);
}

export async function stopAll(pidFile: string): Promise<void> {
  // Webhook first, then the API server, then etcd: the reverse of starting.
  const order = ["webhook", "kube-apiserver", "etcd"];
  const names = [...readPids(pidFile).keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  for (const name of names) await stopProcess(pidFile, name);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`,
  );
}

/** Waits until a server's plain-HTTP /readyz answers 200; on timeout the error carries its log. */
export async function waitForReadyz(
  what: string,
  metricsPort: number,
  managed: Managed,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<void> {
  await waitFor(
    what,
    async () =>
      (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)
        .then((r) => r.status)
        .catch(() => 0)) === 200
        ? true
        : undefined,
    timeoutMs,
    intervalMs,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- ${managed.name} log ---\n${tail(managed.logFile)}`);
  });
}
