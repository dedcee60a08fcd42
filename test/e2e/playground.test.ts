// `make up` as a playground: the lines it prints for alice, bob and an admin really work. The test
// runs the Makefile's command (`node --import tsx test/cluster/demo.ts up`, its own control plane
// from the cached binaries, TMPDIR of its own), takes the printed blocks and runs them with bash
// against the real API server and secrets API: alice adds a secret and her job pod gets the
// secretKeyRef and the file; bob's job naming alice's secret and bob's `kubectl debug` on alice's
// pod are refused; an admin of the group the webhook trusts adds a debug container. Then SIGTERM:
// `make up` stops and removes its cluster folder.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadToolPaths } from "../cluster/control-plane.js";
import { stopAll } from "../cluster/processes.js";

const ROOT = join(import.meta.dirname, "../..");
const parent = mkdtempSync(join(tmpdir(), "playground-"));
let child: ChildProcess | undefined;
let output = "";
let exited: Promise<number | null> = Promise.resolve(null);

interface Block {
  title: string;
  lines: string[];
}

/** The "Try it yourself" blocks as printed: a title indented by two spaces, its lines by four. */
function printedBlocks(text: string): Block[] {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.startsWith("Try it yourself"));
  const blocks: Block[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith("    ")) blocks.at(-1)?.lines.push(line.slice(4));
    else if (line.startsWith("  ")) blocks.push({ title: line.slice(2), lines: [] });
    else break;
  }
  return blocks;
}

function block(title: string): Block {
  const found = printedBlocks(output).find((b) => b.title.startsWith(title));
  if (!found) throw new Error(`make up printed no block for ${title}:\n${output}`);
  return found;
}

/** Line `index` of a block, after its session line, in a fresh bash (as a user pastes them). */
function run(b: Block, index: number): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.KUBECONFIG;
  const result = spawnSync("bash", ["-c", `${b.lines[0]}\n${b.lines[index]}`], {
    encoding: "utf8",
    env,
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The stored pod, read as the cluster admin (the kubeconfig `make up` prints). */
function storedPod(name: string): V1Pod {
  // The line `  export KUBECONFIG=…` under "The cluster is up.".
  const admin = output
    .split("\n")
    .find((line) => line.startsWith("  export KUBECONFIG="))
    ?.slice("  export KUBECONFIG=".length);
  if (!admin) throw new Error(`make up printed no admin kubeconfig:\n${output}`);
  const text = spawnSync(
    loadToolPaths().kubectl,
    ["--kubeconfig", admin, "-n", "ml-jobs", "get", "pod", name, "-o", "json"],
    { encoding: "utf8" },
  ).stdout;
  return JSON.parse(text) as V1Pod;
}

beforeAll(async () => {
  const started = spawn(process.execPath, ["--import", "tsx", "test/cluster/demo.ts", "up"], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: parent },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = started;
  exited = new Promise((resolve) => started.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Press Ctrl-C")) resolve();
    };
    started.stdout?.on("data", collect);
    started.stderr?.on("data", collect);
    void exited.then(() => reject(new Error(`make up exited before it was up:\n${output}`)));
  });
}, 240_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const name of readdirSync(parent).filter((entry) => entry.startsWith("apolo-cluster-")))
    await stopAll(join(parent, name, "pids"));
  rmSync(parent, { recursive: true, force: true });
});

describe("make up: the printed lines", () => {
  it("alice adds a secret with apolo-secret and her job pod gets its secretKeyRef and file", () => {
    const alice = block("alice:");
    const added = run(alice, 1);
    expect(added.stderr).toBe("");
    expect(added.status).toBe(0);
    expect(added.stdout).toContain("my_token");

    const submitted = run(alice, 2);
    expect(submitted.status, submitted.stderr).toBe(0);
    expect(submitted.stdout).toContain('"secretKeyRef":{"key":"my_token","name":"user--alice--secrets"}');
    const pod = storedPod("try-alice");
    const container = pod.spec?.containers[0];
    expect(container?.env).toEqual([
      { name: "MY_TOKEN", valueFrom: { secretKeyRef: { name: "user--alice--secrets", key: "my_token" } } },
    ]);
    const mount = container?.volumeMounts?.find((m) => m.mountPath === "/var/secrets/my_token");
    expect(mount?.subPath).toBe("my_token");
    expect(pod.spec?.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName).toBe(
      "user--alice--secrets",
    );
    expect(JSON.stringify(pod)).not.toContain("alice-s3cr3t");
  });

  it("bob's own job works; his job naming alice's secret is refused", () => {
    const bob = block("bob:");
    expect(run(bob, 1).status).toBe(0);
    const own = run(bob, 2);
    expect(own.status, own.stderr).toBe(0);
    expect(own.stdout).toContain('"secretKeyRef":{"key":"my_token","name":"user--bob--secrets"}');

    const foreign = run(bob, 3);
    expect(foreign.status).not.toBe(0);
    expect(foreign.stderr).toContain("names a secret of 'alice', but this job belongs to 'bob'");
  });

  it("kubectl debug on alice's pod: refused for bob (forged owner), allowed for an admin of the trusted group", () => {
    const bobDebug = run(block("bob:"), 4);
    expect(bobDebug.status).not.toBe(0);
    expect(bobDebug.stderr).toContain(
      "'bob' may not submit a job for owner 'alice': only the owner or a trusted submitter may create pods labelled for it",
    );

    const ops = run(block("ops,"), 1);
    expect(ops.status, ops.stderr).toBe(0);
    expect(ops.stdout.trim()).toBe("ops-debug");
    expect(storedPod("try-alice").spec?.ephemeralContainers?.map((c) => c.name)).toEqual(["ops-debug"]);
  });

  it("SIGTERM stops make up and removes its cluster folder", async () => {
    child?.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(readdirSync(parent).filter((name) => name.startsWith("apolo-cluster-"))).toEqual([]);
  });
});
