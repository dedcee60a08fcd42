// /readyz built from its real inputs, not a stub: the `serve` command run as a process (from the
// sources, no build needed) with its certificate files, client CA file and Kubernetes access as
// given, and SIGTERM. There is no API server here (the kubeconfig points at a closed loopback
// port), so the store cache never syncs: this checks the certificate, client CA and shutdown
// inputs and that "not synced" keeps the webhook unready. Becoming ready once the cache has
// listed is checked against a real API server by the end-to-end suite.

import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createCa, type IssuedCert, issueCert, type TestCa } from "../support/certs.js";
import { getText, postJson } from "../support/https-client.js";
import { reviewFor } from "../support/replay.js";

const MAIN = join(import.meta.dirname, "../../src/main.ts");

let dir: string;
let ca: TestCa;
let serving: IssuedCert;
let kubeconfig: string;
const started: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "apolo-readiness-"));
  ca = createCa(dir, "ca");
  serving = issueCert(ca, { name: "serving", commonName: "w", ips: ["127.0.0.1"], usage: "server" });
  // An API server address where nothing listens: the store cache keeps retrying and never syncs.
  kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "current-context: none",
      "contexts: [{name: none, context: {cluster: none, user: none}}]",
      "clusters: [{name: none, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]",
      "users: [{name: none, user: {token: t}}]",
      "",
    ].join("\n"),
  );
});

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A port the OS had free a moment ago; `serve` below retries when it was taken meanwhile. */
function portHint(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

interface Serving {
  child: ChildProcess;
  metrics: string;
  /** Log lines so far (JSON). */
  lines: () => Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

async function waitFor<T>(read: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `apolo-secrets-webhook serve` with `args`; resolves once its metrics port answers. */
async function serve(args: string[]): Promise<Serving> {
  for (let attempt = 0; ; attempt++) {
    const metricsPort = await portHint();
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        MAIN,
        "serve",
        "--bind-address=127.0.0.1",
        "--port=0",
        `--metrics-port=${metricsPort}`,
        `--kubeconfig=${kubeconfig}`,
        "--tls-reload-interval-ms=100",
        ...args,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    started.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const lines = () =>
      stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const metrics = `http://127.0.0.1:${metricsPort}`;
    const up = await waitFor(async () => {
      if (child.exitCode !== null) return "exited";
      const alive = await fetch(`${metrics}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
      return alive ? "up" : undefined;
    }, "the metrics port");
    if (up === "up") return { child, metrics, lines, exited };
    // The port hint was taken between the probe and the start: try another one.
    if (attempt < 5 && stderr.includes("EADDRINUSE")) continue;
    throw new Error(`serve exited ${child.exitCode}: ${stderr}`);
  }
}

async function readyz(base: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${base}/readyz`);
  return { status: response.status, text: await response.text() };
}

function httpsPort(running: Serving): number | undefined {
  const line = running.lines().find((l) => l.msg === "webhook serving");
  return line === undefined ? undefined : (line.port as number);
}

describe("/readyz from the real inputs", () => {
  it("is 503 until the certificate files exist, and still 503 while the store cache has not synced", async () => {
    const live = { cert: join(dir, "late.crt"), key: join(dir, "late.key") };
    const running = await serve([`--tls-cert-file=${live.cert}`, `--tls-key-file=${live.key}`]);
    expect((await fetch(`${running.metrics}/healthz`)).status).toBe(200);
    const before = await readyz(running.metrics);
    expect(before.status).toBe(503);
    expect(before.text).toContain("certificate not loaded");
    expect(before.text).toContain("store cache not synced");
    expect(httpsPort(running)).toBeUndefined();

    copyFileSync(serving.keyFile, live.key);
    copyFileSync(serving.certFile, live.cert);
    const port = await waitFor(() => httpsPort(running), "the HTTPS port to listen");
    const after = await waitFor(async () => {
      const answer = await readyz(running.metrics);
      return answer.text.includes("certificate not loaded") ? undefined : answer;
    }, "the certificate to count as loaded");
    expect(after).toEqual({ status: 503, text: "not ready: store cache not synced\n" });
    // The HTTPS port says the same.
    const overHttps = await getText(`https://127.0.0.1:${port}/readyz`, ca.pem);
    expect({ status: overHttps.status, text: overHttps.text }).toEqual(after);
  });

  it("with --client-ca-file, is 503 until that CA is loaded too", async () => {
    const clientCaFile = join(dir, "late-client-ca.crt");
    const running = await serve([
      `--tls-cert-file=${serving.certFile}`,
      `--tls-key-file=${serving.keyFile}`,
      `--client-ca-file=${clientCaFile}`,
    ]);
    const before = await readyz(running.metrics);
    expect(before.status).toBe(503);
    expect(before.text).toContain("client CA not loaded");
    expect(before.text).not.toContain("certificate not loaded");
    // Fail closed: no HTTPS listener without the CA that decides who may call.
    expect(httpsPort(running)).toBeUndefined();

    copyFileSync(createCa(dir, "late-client-ca").certFile, clientCaFile);
    await waitFor(() => httpsPort(running), "the HTTPS port to listen");
    const after = await waitFor(async () => {
      const answer = await readyz(running.metrics);
      return answer.text.includes("client CA not loaded") ? undefined : answer;
    }, "the client CA to count as loaded");
    expect(after).toEqual({ status: 503, text: "not ready: store cache not synced\n" });
  });

  it("turns 503 'shutting down' at SIGTERM while /mutate is still answered", async () => {
    const running = await serve([
      `--tls-cert-file=${serving.certFile}`,
      `--tls-key-file=${serving.keyFile}`,
      // Longer than the test: it ends with SIGKILL, the delay never runs out during the checks.
      "--shutdown-delay-ms=600000",
    ]);
    const port = await waitFor(() => httpsPort(running), "the HTTPS port to listen");
    expect((await readyz(running.metrics)).text).not.toContain("shutting down");
    running.child.kill("SIGTERM");
    const during = await waitFor(async () => {
      const answer = await readyz(running.metrics);
      return answer.text.includes("shutting down") ? answer : undefined;
    }, "/readyz to say shutting down");
    expect(during.status).toBe(503);
    const review = reviewFor({ metadata: {}, spec: { containers: [{ name: "c" }] } }, "uid-term", {
      username: "x",
      groups: [],
    });
    const answer = await postJson(`https://127.0.0.1:${port}/mutate`, review, { ca: ca.pem });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ response: { uid: "uid-term", allowed: true } });
    expect(running.child.exitCode).toBeNull();
  });
});
