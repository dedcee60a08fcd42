// The commands as users run them (bin/, after `make build`): exit codes and messages of a bad
// configuration, and apolo-secret's exit codes that need no server (0 help, 2 bad usage, 3 no
// server, no credentials, unreachable). Exit 1 (refused) and 0 (done) against the real secrets
// API are in test/e2e/secrets-api.test.ts and test/e2e/secret-cli.test.ts.

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = join(import.meta.dirname, "../../bin");
// Only what the commands need from the environment: no inherited KUBECONFIG or APOLO_* settings.
const CLEAN_ENV = { PATH: process.env.PATH ?? "", HOME: "/nonexistent" };

function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(join(BIN, command), args, { env: { ...CLEAN_ENV, ...env } }, (error, stdout, stderr) => {
      const code = error ? Number((error as { code?: number }).code) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
// A listener that cuts every connection: "cannot reach" without a port race.
let cutter: Server;
let cutterUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "apolo-commands-"));
  cutter = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => cutter.listen(0, "127.0.0.1", resolve));
  const address = cutter.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  cutterUrl = `https://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise((resolve) => cutter.close(resolve));
});

describe("apolo-secrets-webhook with a bad configuration", () => {
  it("exits 2 and names the flag and the variable when serve is given a bad port", async () => {
    const result = await run("apolo-secrets-webhook", ["serve", "--port", "nope"]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: --port (APOLO_SECRETS_WEBHOOK_PORT) must be a whole number, got 'nope'\n",
    });
  });

  it.each([
    [
      ["serve", "--kubeconfig=/k", "--manage-certificates", "--tls-cert-file=/c", "--tls-key-file=/k"],
      "needs --tls-secret",
    ],
    [
      ["serve", "--kubeconfig=/k", "--tls-secret=ns/tls", "--ca-validity=1y"],
      "--ca-validity (APOLO_SECRETS_WEBHOOK_CA_VALIDITY) must be a duration",
    ],
    [["serve", "--tls-secret=ns/tls"], "--kubeconfig (KUBECONFIG) is required outside a cluster"],
    [
      ["api", "--kubeconfig=/k", "--tls-secret=ns/tls"],
      "--namespace (APOLO_SECRETS_WEBHOOK_API_NAMESPACE) is required",
    ],
    [["mutate", "--pod"], "--pod needs a value: write --pod FILE or --pod=FILE"],
    [["deploy"], "unknown command 'deploy'; the commands are serve, api and mutate (see --help)"],
  ])("exits 2 for %j", async (args, message) => {
    const result = await run("apolo-secrets-webhook", args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("reads a bad value from the environment and names the variable", async () => {
    const result = await run("apolo-secrets-webhook", ["serve"], { APOLO_SECRETS_WEBHOOK_LOG_LEVEL: "loud" });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "error: --log-level (APOLO_SECRETS_WEBHOOK_LOG_LEVEL) must be debug, info, warn or error, got 'loud'\n",
    );
  });
});

describe("apolo-secret exit codes", () => {
  it("exits 0 with the help", async () => {
    for (const args of [[], ["--help"], ["help"]]) {
      const result = await run("apolo-secret", args);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("Usage: apolo-secret <command> [options]");
    }
  });

  it.each([
    [["add", "only-key"], "apolo-secret: usage: apolo-secret add KEY VALUE  (or add KEY @path/to/file)\n"],
    [["rm"], "apolo-secret: usage: apolo-secret rm KEY\n"],
    [["ls", "extra"], "apolo-secret: usage: apolo-secret ls\n"],
    [["cat", "k"], "apolo-secret: unknown command 'cat'; the commands are add, ls and rm (see --help)\n"],
    [["ls", "--verbose"], "apolo-secret: unknown option '--verbose' (see --help)\n"],
    [["add", "k", "@/nonexistent/file"], "apolo-secret: cannot read '/nonexistent/file'\n"],
  ])("exits 2 for bad usage %j", async (args, stderr) => {
    expect(await run("apolo-secret", args)).toEqual({ code: 2, stdout: "", stderr });
  });

  it("exits 3 without a server", async () => {
    const result = await run("apolo-secret", ["ls", "--token=t"]);
    expect(result).toMatchObject({
      code: 3,
      stderr: "apolo-secret: no server: pass --server URL or set APOLO_SECRETS_SERVER\n",
    });
  });

  it("exits 3 without credentials, and says what is wrong with the kubeconfig", async () => {
    const missing = await run("apolo-secret", ["ls", `--server=${cutterUrl}`, "--kubeconfig=/nonexistent"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(
      /^apolo-secret: no credentials: pass --token, set APOLO_SECRETS_TOKEN, or use a kubeconfig whose user has a token \(kubeconfig: .*ENOENT/,
    );
    const exec = writeKubeconfig("exec.yaml", "exec: {command: aws}");
    const plugin = await run("apolo-secret", ["ls"], { APOLO_SECRETS_SERVER: cutterUrl, KUBECONFIG: exec });
    expect(plugin.code).toBe(3);
    expect(plugin.stderr).toContain("uses an exec plugin or auth provider");
  });

  it("exits 3 when the server cannot be reached, with the token from the kubeconfig", async () => {
    const kubeconfig = writeKubeconfig("token.yaml", "token: from-kubeconfig");
    const result = await run("apolo-secret", ["ls", `--server=${cutterUrl}`], {
      KUBECONFIG: `${kubeconfig}:/other`,
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(new RegExp(`^apolo-secret: cannot reach ${cutterUrl}: `));
  });
});

function writeKubeconfig(name: string, user: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {${user}}}]
`,
  );
  return file;
}
