// `make up`'s lines for the platform's apolo CLI work as printed: the test runs the Makefile's
// command (`node --import tsx test/cluster/demo.ts up`, a control plane of its own, TMPDIR of its
// own), pastes alice's printed environment, alias and login line, and lists her secrets: the keys
// the demo added with apolo-secret, since both secrets APIs write the same stores.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stopAll } from "../cluster/processes.js";

const ROOT = join(import.meta.dirname, "../..");
let child: ChildProcess | undefined;
let parent: string | undefined;

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  if (!parent) return;
  for (const name of readdirSync(parent).filter((entry) => entry.startsWith("apolo-cluster-")))
    await stopAll(join(parent, name, "pids"));
  rmSync(parent, { recursive: true, force: true });
});

/** The block `make up` prints for `user`: its indented lines up to the next user or the end. */
function userLines(output: string, user: string): string[] {
  const lines = output.split("\n");
  const start = lines.indexOf(`  ${user}:`);
  if (start === -1) throw new Error(`make up printed no block for ${user}:\n${output}`);
  const block: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith("    ")) break;
    block.push(line.trim());
  }
  return block;
}

/** `export A=1 B=2` → {A: "1", B: "2"} (the printed values have no spaces). */
function exported(line: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of line.slice("export ".length).split(" ")) {
    const equals = pair.indexOf("=");
    env[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return env;
}

function run(
  command: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      command[0] as string,
      command.slice(1),
      { env, cwd: env.HOME, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (error as { code?: unknown }).code : 0;
        resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
      },
    );
  });
}

describe("make up and the apolo CLI", () => {
  it("prints lines that log alice in with a platform token and show her secrets", {
    timeout: 300_000,
  }, async () => {
    parent = mkdtempSync(join(tmpdir(), "up-apolo-cli-"));
    const up = spawn(process.execPath, ["--import", "tsx", "test/cluster/demo.ts", "up"], {
      cwd: ROOT,
      env: { ...process.env, TMPDIR: parent },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = up;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Press Ctrl-C")) resolve();
      };
      up.stdout?.on("data", collect);
      up.stderr?.on("data", collect);
      up.on("exit", () => reject(new Error(`make up exited early:\n${output}`)));
    });

    const [exports, alias, login] = userLines(output, "alice");
    expect(exports).toMatch(/^export HOME=\S+ APOLO_CONFIG=\S+ PYTHONPATH=\S+/);
    expect(alias).toMatch(/^alias apolo='\S+\/bin\/apolo --skip-stats'$/);
    expect(login).toMatch(/^apolo config login-with-token \S+ https:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
    const env = { PATH: process.env.PATH ?? "", ...exported(exports as string) };
    const apolo = (alias as string).slice("alias apolo='".length, -1).split(" ");

    const loggedIn = await run([...apolo, ...(login as string).split(" ").slice(1)], env);
    expect(loggedIn.code, loggedIn.stderr).toBe(0);
    expect(loggedIn.stdout).toContain("as alice");
    const listed = await run([...apolo, "secret", "ls"], env);
    expect(listed.code, listed.stderr).toBe(0);
    for (const key of ["db_password", "hf_token", "gcp-key"]) expect(listed.stdout).toContain(key);
    // The demo's values never come back.
    expect(listed.stdout).not.toContain("pa55w0rd");

    up.kill("SIGTERM");
    await new Promise((resolve) => up.on("exit", resolve));
    expect(readdirSync(parent).filter((entry) => entry.startsWith("apolo-cluster-"))).toEqual([]);
  });
});
