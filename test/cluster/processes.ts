// Child processes of the harness: each in its own process group, recorded in a pid file that a
// watchdog reads to kill them all if the test runner dies. Output goes to a log file per process.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
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
  /** Where this run's output starts in logFile (a restarted process appends to the same file). */
  logStart: number;
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
  const logStart = existsSync(logFile) ? statSync(logFile).size : 0;
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
  return { name: spec.name, pid: child.pid, logFile, logStart, exited };
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

/** Sends a signal to a recorded process group (SIGSTOP/SIGCONT pause and resume it). */
export function signalProcess(pidFile: string, name: string, signal: NodeJS.Signals): void {
  const pid = readPids(pidFile).get(name);
  if (pid === undefined) throw new Error(`no process named ${name} in ${pidFile}`);
  process.kill(-pid, signal);
}

export async function stopAll(pidFile: string): Promise<void> {
  // Webhook first, then the API server, then etcd: the reverse of starting.
  const order = ["webhook", "kube-apiserver", "etcd"];
  const names = [...readPids(pidFile).keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  for (const name of names) await stopProcess(pidFile, name);
}

// Ports are handed out from below the kernel's ephemeral range (outgoing connections never take
// them), never twice by this runner, and only after a test bind. Another process can still take
// one between that bind and the child's, so startOnFreePorts starts again on new ports when the
// child says its port is taken.
const handedOut = new Set<number>();

function ephemeralRangeStart(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const PORT_RANGE = { low: 10_000, high: ephemeralRangeStart() };

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A loopback port nobody listens on now; see startOnFreePorts for the window before the child binds it. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const port = PORT_RANGE.low + Math.floor(Math.random() * (PORT_RANGE.high - PORT_RANGE.low));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free loopback port in ${PORT_RANGE.low}-${PORT_RANGE.high}`);
}

/** The process being waited for is gone: waitFor stops at once instead of polling to its deadline. */
export class ProcessExited extends Error {}

/** A child process exited because a port it was given was taken meanwhile: try again on new ones. */
export class PortTaken extends ProcessExited {}

const PORT_TAKEN = ["address already in use", "EADDRINUSE"];

function outputOf(managed: Managed): string {
  return existsSync(managed.logFile)
    ? readFileSync(managed.logFile).subarray(managed.logStart).toString()
    : "";
}

/** Throws PortTaken if the process's own output says a port was taken, else a plain error with its log. */
export function exitError(managed: Managed, what: string): Error {
  const output = outputOf(managed);
  if (PORT_TAKEN.some((text) => output.includes(text)))
    return new PortTaken(`${what}: a port was taken before it could bind`);
  return new ProcessExited(`${what} exited:\n${tail(managed.logFile)}`);
}

/**
 * For a readiness poll: throws PortTaken when the process says a port was taken (and kills it: a
 * process may report that and keep running), ProcessExited when it is gone; else returns.
 */
export function assertServing(managed: Managed, exited: boolean, what: string): void {
  const output = outputOf(managed);
  if (PORT_TAKEN.some((text) => output.includes(text))) {
    try {
      process.kill(-managed.pid, "SIGKILL");
    } catch {
      // already gone
    }
    throw new PortTaken(`${what}: a port was taken before it could bind`);
  }
  if (exited) throw exitError(managed, what);
}

/**
 * Chooses two ports and runs `attempt` (start a process on them, wait until it serves); when the
 * process reports a port taken (PortTaken), does it again on fresh ports.
 */
export async function startOnFreePorts<T>(
  attempt: (ports: [number, number]) => Promise<T>,
  tries = 5,
): Promise<T> {
  for (let i = 1; ; i++) {
    const ports: [number, number] = [await freePort(), await freePort()];
    try {
      return await attempt(ports);
    } catch (error) {
      if (!(error instanceof PortTaken) || i >= tries) throw error;
    }
  }
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
      if (error instanceof ProcessExited) throw error;
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
  let exited = false;
  void managed.exited.then(() => {
    exited = true;
  });
  await waitFor(
    what,
    async () => {
      assertServing(managed, exited, managed.name);
      // Bounded: whatever holds the port may accept and never answer.
      return (await fetch(`http://127.0.0.1:${metricsPort}/readyz`, { signal: AbortSignal.timeout(2_000) })
        .then((r) => r.status)
        .catch(() => 0)) === 200
        ? true
        : undefined;
    },
    timeoutMs,
    intervalMs,
  ).catch((error: unknown) => {
    if (error instanceof PortTaken) throw error;
    throw new Error(`${String(error)}\n--- ${managed.name} log ---\n${tail(managed.logFile)}`);
  });
}
