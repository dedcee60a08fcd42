// `make up` stopped by SIGTERM, not only Ctrl-C, tears its cluster down and removes the cluster
// folder (etcd data, client keys), whenever the signal comes: while the control plane is still
// starting, or once it is up. Each test runs the Makefile's command, `node --import tsx
// test/cluster/demo.ts up` (its own control plane, from the cached binaries), with TMPDIR pointing
// at a folder of its own, so the folders of other runs never count.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stopAll } from "../cluster/processes.js";

const ROOT = join(import.meta.dirname, "../..");
const parents: string[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  // After a failure the cluster may still run: stop what its pid file lists before removing the
  // folder (the watchdog, which would, needs that file).
  for (const parent of parents.splice(0)) {
    for (const name of readdirSync(parent).filter((entry) => entry.startsWith("apolo-cluster-")))
      await stopAll(join(parent, name, "pids"));
    rmSync(parent, { recursive: true, force: true });
  }
});

/** Starts `demo.ts up` with its own TMPDIR; resolves its exit code; `output` grows as it prints. */
function startUp() {
  const parent = mkdtempSync(join(tmpdir(), "demo-signals-"));
  parents.push(parent);
  const child = spawn(process.execPath, ["--import", "tsx", "test/cluster/demo.ts", "up"], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: parent },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const state = { output: "" };
  child.stdout?.on("data", (chunk: Buffer) => {
    state.output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    state.output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const printed = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (state.output.includes(text)) {
          child.stdout?.off("data", check);
          resolve();
        }
      };
      child.stdout?.on("data", check);
      void exited.then(() => reject(new Error(`demo exited before printing '${text}':\n${state.output}`)));
      check();
    });
  const clusterFolders = () => readdirSync(parent).filter((name) => name.startsWith("apolo-cluster-"));
  return { child, exited, printed, clusterFolders, state };
}

describe("make up and signals", () => {
  it("SIGTERM once the cluster is up stops it and removes the cluster folder", {
    timeout: 240_000,
  }, async () => {
    const up = startUp();
    await up.printed("The cluster is up.");
    expect(up.clusterFolders()).toHaveLength(1);
    up.child.kill("SIGTERM");
    expect(await up.exited).toBe(0);
    expect(up.clusterFolders()).toEqual([]);
  });

  it("SIGTERM while the control plane is starting stops it and removes the cluster folder", {
    timeout: 240_000,
  }, async () => {
    const up = startUp();
    await up.printed("control plane ready");
    up.child.kill("SIGTERM");
    expect(await up.exited).toBe(0);
    expect(up.state.output).toContain("SIGTERM: stopping");
    expect(up.clusterFolders()).toEqual([]);
  });
});
