// Who may call /mutate: with client authentication on, the HTTPS listener (composed as serve.ts
// composes it) answers only callers with a certificate from the client CA, refuses everyone else
// in the TLS handshake (no HTTP answer at all), checks allowed names, and takes a new CA bundle
// from disk without a restart.

import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientCaReloader, checkClientCa } from "../../src/certs/client-ca.js";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { createLogger } from "../../src/lifecycle/logger.js";
import { createApp } from "../../src/server/app.js";
import { BodyBudget } from "../../src/server/body-budget.js";
import { CertifiedListener } from "../../src/server/https-server.js";
import { createMetrics } from "../../src/server/metrics.js";
import { createReviewHandler } from "../../src/server/review-handler.js";
import { createCa, issueCert, type TestCa } from "../support/certs.js";
import { postJson } from "../support/https-client.js";
import { casePolicy, reviewFor } from "../support/replay.js";

let dir: string;
let servingCa: TestCa;
let clientCa: TestCa;
let otherCa: TestCa;
let client: { cert: Buffer; key: Buffer };
let stranger: { cert: Buffer; key: Buffer };
let serving: { cert: Buffer; key: Buffer };

const review = reviewFor({ metadata: {}, spec: { containers: [{ name: "c" }] } }, "ca-1", {
  username: "x",
  groups: [],
});

function read(issued: { certFile: string; keyFile: string }) {
  return { cert: readFileSync(issued.certFile), key: readFileSync(issued.keyFile) };
}

async function startServer(options: { caFile: string; allowedNames?: string[] }) {
  const logger = createLogger("error", () => {});
  const metrics = createMetrics({ storeCount: 0, keyCount: 0, synced: true });
  const app = createApp({
    handleReview: createReviewHandler({
      policy: casePolicy(),
      index: new MemorySecretIndex(),
      refresh: undefined,
      logger,
      metrics,
    }),
    readiness: () => [],
    maxBodyBytes: 64 * 1024,
    bodyBudget: new BodyBudget(1024 * 1024),
  });
  let listening: (port: number) => void = () => {};
  let failed: (error: Error) => void = () => {};
  const started = new Promise<number>((resolve, reject) => {
    listening = resolve;
    failed = reject;
  });
  const server = new CertifiedListener(
    app,
    {
      host: "127.0.0.1",
      port: 0,
      keepAliveTimeoutMs: 120_000,
      clientAuth: { allowedNames: options.allowedNames ?? [] },
      onRefused: (reason) => metrics.tlsRefusals.inc({ reason }),
    },
    (port) => listening(port),
    (error) => failed(error),
  );
  server.use(serving);
  const reloader = new ClientCaReloader(options.caFile, 50, {
    onLoad: (ca) => server.trustClients(ca.pem),
    onReject: () => {},
  });
  await reloader.load();
  reloader.start();
  const port = await started;
  return {
    url: `https://127.0.0.1:${port}/mutate`,
    refusals: async (reason: string) => {
      const sample = `apolo_secrets_webhook_tls_refusals_total{reason="${reason}"} `;
      const line = (await metrics.registry.metrics()).split("\n").find((l) => l.startsWith(sample));
      return Number(line?.slice(sample.length) ?? 0);
    },
    stop: async () => {
      reloader.stop();
      await server.drain(1000);
    },
  };
}

/** What a caller gets: an HTTP status, or the error of a connection that never answered. */
async function call(url: string, who: { cert: Buffer; key: Buffer } | undefined) {
  try {
    const answer = await postJson(url, review, { ca: servingCa.pem, ...who });
    return { status: answer.status, allowed: (answer.body as { response?: { allowed?: boolean } }).response };
  } catch (error) {
    return { error: String((error as { code?: string }).code ?? error) };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "apolo-client-auth-"));
  servingCa = createCa(dir, "serving-ca");
  clientCa = createCa(dir, "client-ca");
  otherCa = createCa(dir, "other-ca");
  serving = read(
    issueCert(servingCa, { name: "serving", commonName: "webhook", ips: ["127.0.0.1"], usage: "server" }),
  );
  client = read(issueCert(clientCa, { name: "apiserver", commonName: "kube-apiserver", usage: "client" }));
  stranger = read(issueCert(otherCa, { name: "stranger", commonName: "kube-apiserver", usage: "client" }));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("client certificates on the webhook port", () => {
  it("answers a caller with a certificate from the client CA and refuses others in the handshake", async () => {
    const server = await startServer({ caFile: clientCa.certFile });
    try {
      expect(await call(server.url, client)).toEqual({ status: 200, allowed: expect.anything() });
      const anonymous = await call(server.url, undefined);
      expect(anonymous).not.toHaveProperty("status");
      expect(anonymous.error).toMatch(/CERTIFICATE_REQUIRED|ECONNRESET|EPIPE|socket hang up/);
      const foreign = await call(server.url, stranger);
      expect(foreign).not.toHaveProperty("status");
      expect(foreign.error).toMatch(/UNKNOWN_CA|ECONNRESET|EPIPE|socket hang up/);
      expect(await server.refusals("handshake")).toBe(2);
    } finally {
      await server.stop();
    }
  });

  it("with allowed names, refuses a certificate from the right CA with another CN", async () => {
    const other = read(issueCert(clientCa, { name: "alice", commonName: "alice", usage: "client" }));
    const server = await startServer({ caFile: clientCa.certFile, allowedNames: ["kube-apiserver"] });
    try {
      expect(await call(server.url, client)).toMatchObject({ status: 200 });
      const refused = await call(server.url, other);
      expect(refused).not.toHaveProperty("status");
      expect(await server.refusals("client-name")).toBe(1);
    } finally {
      await server.stop();
    }
  });

  it("takes a new client CA from disk without a restart", async () => {
    const caFile = join(dir, "live-client-ca.crt");
    copyFileSync(clientCa.certFile, caFile);
    const server = await startServer({ caFile });
    try {
      expect(await call(server.url, stranger)).not.toHaveProperty("status");
      copyFileSync(otherCa.certFile, caFile);
      const deadline = Date.now() + 10_000;
      let answer = await call(server.url, stranger);
      while (!("status" in answer) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        answer = await call(server.url, stranger);
      }
      expect(answer).toMatchObject({ status: 200 });
      expect(await call(server.url, client)).not.toHaveProperty("status");
    } finally {
      await server.stop();
    }
  });

  it("refuses a CA file that holds no certificate, naming the file", () => {
    expect(() => checkClientCa(Buffer.from("not a certificate\n"), "/etc/ca.crt")).toThrow(
      "/etc/ca.crt holds no PEM certificate ('-----BEGIN CERTIFICATE-----'): expected the CA of the API server's client certificate",
    );
    const truncated = readFileSync(clientCa.certFile, "utf8").split("-----END")[0] as string;
    expect(() => checkClientCa(Buffer.from(truncated), "/etc/ca.crt")).toThrow(
      "/etc/ca.crt: certificate 1 has no '-----END CERTIFICATE-----' line",
    );
    expect(checkClientCa(readFileSync(clientCa.certFile), "f").count).toBe(1);
  });
});
