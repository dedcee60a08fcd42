// Both servers end through the shared lifecycle: a port that cannot be bound reaches main.ts as an
// error, which exits 1 naming the address (no library calls process.exit). Runs the build
// (`make build`) with a kubeconfig pointing nowhere: nothing here needs a cluster.

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listen } from "../../src/lifecycle/listen.js";
import { createCa, issueCert } from "../support/certs.js";

const BIN = join(import.meta.dirname, "../../bin/apolo-secrets-webhook");
let dir: string;
let tlsArgs: string[];
let taken: Server;
let takenPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "server-exit-"));
  const ca = createCa(dir);
  const serving = issueCert(ca, {
    name: "serving",
    commonName: "127.0.0.1",
    ips: ["127.0.0.1"],
    usage: "server",
  });
  const kubeconfig = join(dir, "kubeconfig");
  // Port 1 refuses connections: the store cache just keeps retrying while the test runs.
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]",
      "users: [{name: u, user: {token: t}}]",
      "contexts: [{name: x, context: {cluster: c, user: u}}]",
      "current-context: x",
    ].join("\n"),
  );
  tlsArgs = [
    "--bind-address=127.0.0.1",
    `--tls-cert-file=${serving.certFile}`,
    `--tls-key-file=${serving.keyFile}`,
    `--kubeconfig=${kubeconfig}`,
  ];
  taken = createServer();
  takenPort = await listen(taken, "127.0.0.1", 0);
});

afterAll(() => {
  taken.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(BIN, args, { encoding: "utf8", timeout: 15_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stderr });
    });
  });
}

describe("a server whose port cannot be bound", () => {
  it("serve exits 1 naming the HTTPS address, bound only once the certificate is loaded", async () => {
    const result = await run(["serve", ...tlsArgs, `--port=${takenPort}`, "--metrics-port=0"]);
    expect(result.stderr).toBe(
      `error: the webhook stopped: cannot listen on 127.0.0.1:${takenPort}: listen EADDRINUSE: address already in use 127.0.0.1:${takenPort}\n`,
    );
    expect(result.code).toBe(1);
  });

  it("api exits 1 naming the metrics address", async () => {
    const result = await run([
      "api",
      ...tlsArgs,
      "--namespace=stores",
      "--port=0",
      `--metrics-port=${takenPort}`,
    ]);
    expect(result.stderr).toBe(
      `error: the secrets API stopped: cannot listen on 127.0.0.1:${takenPort}: listen EADDRINUSE: address already in use 127.0.0.1:${takenPort}\n`,
    );
    expect(result.code).toBe(1);
  });
});
