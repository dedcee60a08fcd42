// The HTTPS edge over real TLS with a throwaway CA: round trips of the shared cases, the shape of
// refusals and errors, body limits, certificate swaps under load, and draining.

import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { Agent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TlsReloader } from "../../src/certs/tls-reloader.js";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { createLogger } from "../../src/lifecycle/logger.js";
import { createApp } from "../../src/server/app.js";
import { BodyBudget } from "../../src/server/body-budget.js";
import { CertifiedListener } from "../../src/server/https-server.js";
import { createMetrics } from "../../src/server/metrics.js";
import { createReviewHandler, type ReviewHandler } from "../../src/server/review-handler.js";
import { CASE_NAMESPACE, cases, type JsonObject } from "../cases/cases.js";
import { createCa, issueCert, type TestCa } from "../support/certs.js";
import { getText, postJson } from "../support/https-client.js";
import { type Answer, casePolicy, expectCaseAnswer, reviewFor, submitterOf } from "../support/replay.js";

interface Running {
  url: string;
  server: CertifiedListener;
  tls: TlsReloader;
  index: MemorySecretIndex;
  logLines: string[];
  reloads: { loaded: number; rejected: number };
}

/** Resolves once `condition` holds; polls, and gives up (failing the test) after `ms`. */
async function waitFor(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let dir: string;
let ca1: TestCa;
let ca2: TestCa;
const MAX_BODY = 64 * 1024;

function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

async function startServer(options: {
  certFile: string;
  keyFile: string;
  handleReview?: ReviewHandler;
  scope?: "user" | "project";
}) {
  const index = new MemorySecretIndex();
  const logLines: string[] = [];
  const logger = createLogger("info", (line) => logLines.push(line));
  const metrics = createMetrics({ storeCount: 0, keyCount: 0, synced: true });
  const handleReview =
    options.handleReview ??
    createReviewHandler({
      policy: casePolicy(options.scope),
      index,
      // A stand-in for the live GET: a store the index lacks is read from `late`.
      refresh: async (namespace, store) => {
        const keys = late.get(`${namespace}/${store}`);
        if (!keys) return "absent";
        index.set(namespace, store, keys);
        return "found";
      },
      logger,
      metrics,
    });
  const app = createApp({
    handleReview,
    readiness: () => [],
    maxBodyBytes: MAX_BODY,
    bodyBudget: new BodyBudget(16 * MAX_BODY),
  });
  // Composed as serve.ts composes it: the listener starts with the first certificate the reloader
  // loads and takes every later one.
  let listening: (port: number) => void = () => {};
  let failed: (error: Error) => void = () => {};
  const started = new Promise<number>((resolve, reject) => {
    listening = resolve;
    failed = reject;
  });
  const server = new CertifiedListener(
    app,
    { host: "127.0.0.1", port: 0, keepAliveTimeoutMs: 120_000 },
    (port) => listening(port),
    (error) => failed(error),
  );
  // What the reloader did, so tests wait for its events instead of for time.
  const reloads = { loaded: 0, rejected: 0 };
  const tls = new TlsReloader(options.certFile, options.keyFile, 50, {
    onLoad: (c) => {
      reloads.loaded++;
      server.use({ cert: c.cert, key: c.key });
    },
    onReject: () => {
      reloads.rejected++;
    },
  });
  await tls.load();
  const port = await started;
  tls.start();
  return { url: `https://127.0.0.1:${port}`, server, tls, index, logLines, reloads };
}

const late = new Map<string, string[]>();
let main: Running;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "apolo-https-"));
  ca1 = createCa(dir, "ca1");
  ca2 = createCa(dir, "ca2");
  const serving = issueCert(ca1, {
    name: "serving",
    commonName: "webhook",
    ips: ["127.0.0.1"],
    usage: "server",
  });
  main = await startServer(serving);
});

afterAll(async () => {
  main?.tls.stop();
  await main?.server.drain(1000);
  rmSync(dir, { recursive: true, force: true });
});

function toAnswer(body: unknown): Answer {
  const response = (
    body as { response: { allowed: boolean; patch?: string; status?: { code: number; message: string } } }
  ).response;
  const patch = response.patch ? JSON.parse(Buffer.from(response.patch, "base64").toString("utf8")) : [];
  return response.allowed
    ? { allowed: true, patch }
    : { allowed: false, code: response.status?.code, message: response.status?.message, patch: [] };
}

describe("POST /mutate over HTTPS", () => {
  for (const c of cases.filter((k) => (k.scope ?? "user") === "user")) {
    it(`replays: ${c.name}`, async () => {
      for (const [store, keys] of Object.entries(c.stores)) main.index.set(CASE_NAMESPACE, store, keys);
      const send = async (pod: JsonObject) => {
        const answer = await postJson(`${main.url}/mutate`, reviewFor(pod, "uid-7", submitterOf(c)), {
          ca: ca1.pem,
        });
        expect(answer.status).toBe(200);
        return toAnswer(answer.body);
      };
      try {
        await expectCaseAnswer(c, await send(c.pod), send);
      } finally {
        main.index.clearNamespace(CASE_NAMESPACE);
      }
    });
  }

  it("echoes apiVersion and uid and puts refusals in response.status", async () => {
    const review = reviewFor(
      {
        metadata: { labels: { "platform.apolo.us/user": "alice" } },
        spec: { containers: [{ name: "c", env: [{ name: "A", value: "secret:/bob/x" }] }] },
      },
      "the-uid",
      { username: "alice", groups: [] },
    );
    const answer = await postJson(`${main.url}/mutate`, review, { ca: ca1.pem });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "the-uid", allowed: false, status: { code: 403, reason: "Forbidden" } },
    });
    expect((answer.body as { response: { patch?: string } }).response.patch).toBeUndefined();
  });

  it("encodes a patch as base64 JSON Patch with patchType", async () => {
    main.index.set(CASE_NAMESPACE, "user--alice--secrets", ["k"]);
    const pod = {
      metadata: { labels: { "platform.apolo.us/user": "alice" } },
      spec: { containers: [{ name: "c", env: [{ name: "A", value: "secret:k" }] }] },
    };
    const answer = await postJson(
      `${main.url}/mutate`,
      reviewFor(pod, "u2", { username: "alice", groups: [] }),
      { ca: ca1.pem },
    );
    const response = (answer.body as { response: { patchType: string; patch: string } }).response;
    expect(response.patchType).toBe("JSONPatch");
    expect(JSON.parse(Buffer.from(response.patch, "base64").toString())).toEqual([
      {
        op: "replace",
        path: "/spec/containers/0/env/0",
        value: { name: "A", valueFrom: { secretKeyRef: { name: "user--alice--secrets", key: "k" } } },
      },
    ]);
    main.index.clearNamespace(CASE_NAMESPACE);
  });

  it("looks a missing store up once and admits a secret added a moment ago", async () => {
    late.set(`${CASE_NAMESPACE}/user--alice--secrets`, ["fresh"]);
    const pod = {
      metadata: { labels: { "platform.apolo.us/user": "alice" } },
      spec: { containers: [{ name: "c", env: [{ name: "A", value: "secret:fresh" }] }] },
    };
    const answer = toAnswer(
      (
        await postJson(`${main.url}/mutate`, reviewFor(pod, "u3", { username: "alice", groups: [] }), {
          ca: ca1.pem,
        })
      ).body,
    );
    expect(answer.allowed).toBe(true);
    expect(answer.patch).toHaveLength(1);
    late.clear();
    main.index.clearNamespace(CASE_NAMESPACE);
    const refused = toAnswer(
      (
        await postJson(`${main.url}/mutate`, reviewFor(pod, "u4", { username: "alice", groups: [] }), {
          ca: ca1.pem,
        })
      ).body,
    );
    expect(refused).toMatchObject({ allowed: false, code: 422, message: "Missing secrets: 'fresh'" });
  });

  it("answers a review with a malformed pod as a 400 review, and a non-review with HTTP 400", async () => {
    const badPod = reviewFor(
      { metadata: { labels: { a: 1 } }, spec: { containers: [] } } as unknown as JsonObject,
      "u5",
      { username: "x", groups: [] },
    );
    const answer = await postJson(`${main.url}/mutate`, badPod, { ca: ca1.pem });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ response: { uid: "u5", allowed: false, status: { code: 400 } } });
    expect((answer.body as { response: { status: { message: string } } }).response.status.message).toContain(
      "request.object.metadata.labels.a must be a string",
    );

    const notReview = await postJson(`${main.url}/mutate`, { hello: "world" }, { ca: ca1.pem });
    expect(notReview.status).toBe(400);
    expect(notReview.body).toMatchObject({
      error: expect.stringContaining('kind must be "AdmissionReview"'),
    });
  });

  it("refuses bad JSON with 400 and bodies over the limit with 413", async () => {
    const bad = await postJson(`${main.url}/mutate`, undefined, { ca: ca1.pem, raw: "{not json" });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: "request body is not valid JSON: expected an AdmissionReview" });
    const big = await postJson(`${main.url}/mutate`, undefined, {
      ca: ca1.pem,
      raw: `{"x":"${"a".repeat(MAX_BODY)}"}`,
    });
    expect(big.status).toBe(413);
    expect(big.body).toEqual({
      error: `request body is larger than the limit of ${MAX_BODY} bytes (--max-body-bytes)`,
    });
  });

  it("routes /healthz and /readyz (readiness from its real inputs: readiness.test.ts)", async () => {
    expect((await getText(`${main.url}/healthz`, ca1.pem)).status).toBe(200);
    expect((await getText(`${main.url}/readyz`, ca1.pem)).text).toBe("ok\n");
  });

  it("logs one line per admission without values, bodies or patches", async () => {
    const pod = {
      metadata: { name: "p-log", labels: { "platform.apolo.us/user": "alice" } },
      spec: {
        containers: [
          {
            name: "c",
            env: [
              { name: "PLAIN", value: "hunter2-plaintext" },
              { name: "A", value: "secret:k" },
            ],
          },
        ],
      },
    };
    main.index.set(CASE_NAMESPACE, "user--alice--secrets", ["k"]);
    await postJson(`${main.url}/mutate`, reviewFor(pod, "u-log", { username: "alice", groups: [] }), {
      ca: ca1.pem,
    });
    main.index.clearNamespace(CASE_NAMESPACE);
    const line = main.logLines.find((l) => l.includes('"u-log"'));
    expect(line).toBeDefined();
    expect(JSON.parse(line as string)).toMatchObject({
      msg: "admission",
      uid: "u-log",
      namespace: CASE_NAMESPACE,
      pod: "p-log",
      owner: "alice",
      decision: "allowed",
      reason: "mutated",
    });
    const all = main.logLines.join("\n");
    expect(all).not.toContain("hunter2-plaintext");
    expect(all).not.toContain("secretKeyRef");
  });
});

describe("certificate reload", () => {
  it("swaps to a certificate from a new CA while requests flow, without a failed request", async () => {
    const first = issueCert(ca1, {
      name: "rot-1",
      commonName: "webhook",
      ips: ["127.0.0.1"],
      usage: "server",
    });
    const second = issueCert(ca2, {
      name: "rot-2",
      commonName: "webhook",
      ips: ["127.0.0.1"],
      usage: "server",
    });
    const live = { certFile: join(dir, "live.crt"), keyFile: join(dir, "live.key") };
    copyFileSync(first.certFile, live.certFile);
    copyFileSync(first.keyFile, live.keyFile);
    const running = await startServer(live);
    const oldPrint = fingerprintOf(first.certFile);
    const newPrint = fingerprintOf(second.certFile);
    // During rotation the client trusts both CAs, as the caBundle does.
    const bundle = [ca1.pem, ca2.pem];
    // No TLS session resumption: a resumed session does not show the server's certificate.
    const fresh = new Agent({ keepAlive: false, maxCachedSessions: 0 });
    const kept = new Agent({ keepAlive: true, maxSockets: 2, maxCachedSessions: 0 });
    const pod = { metadata: {}, spec: { containers: [{ name: "c" }] } };
    // Answers by the certificate that served them; every request is counted, none is timed.
    const answered = new Map<string, number>();
    const failures: string[] = [];
    let sent = 0;
    let stop = false;
    const worker = async (agent: Agent) => {
      // Bounded in count; the swap below ends the loop long before.
      for (let i = 0; i < 20_000 && !stop; i++) {
        try {
          const answer = await postJson(
            `${running.url}/mutate`,
            reviewFor(pod, `rot-${sent++}`, { username: "x", groups: [] }),
            { ca: bundle, agent },
          );
          const allowed = (answer.body as { response?: { allowed?: boolean } }).response?.allowed;
          if (answer.status !== 200 || allowed !== true) failures.push(`${answer.status} ${answer.text}`);
          const print = answer.fingerprint ?? "none";
          answered.set(print, (answered.get(print) ?? 0) + 1);
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const count = (print: string) => answered.get(print) ?? 0;
    const swap = async () => {
      try {
        await waitFor(() => count(oldPrint) >= 20, "answers with the first certificate");
        // Files are renamed into place one at a time: for a moment cert and key do not match.
        copyFileSync(second.keyFile, `${live.keyFile}.tmp`);
        copyFileSync(second.certFile, `${live.certFile}.tmp`);
        const rejectedBefore = running.reloads.rejected;
        renameSync(`${live.certFile}.tmp`, live.certFile);
        await waitFor(() => running.reloads.rejected > rejectedBefore, "the reloader to reject the odd pair");
        // The old pair keeps serving while the files disagree.
        const during = count(oldPrint);
        await waitFor(() => count(oldPrint) >= during + 20, "answers while the files disagree");
        renameSync(`${live.keyFile}.tmp`, live.keyFile);
        await waitFor(() => count(newPrint) >= 20, "answers with the second certificate");
      } finally {
        stop = true;
      }
    };
    await Promise.all([worker(fresh), worker(fresh), worker(kept), swap()]);
    running.tls.stop();
    await running.server.drain(1000);
    fresh.destroy();
    kept.destroy();
    expect(failures).toEqual([]);
    expect(count(oldPrint)).toBeGreaterThanOrEqual(40);
    expect(count(newPrint)).toBeGreaterThanOrEqual(20);
    expect([...answered.keys()].sort()).toEqual([oldPrint, newPrint].sort());
    expect(running.reloads.loaded).toBe(2);
  });
});

describe("draining", () => {
  it("finishes in-flight requests and refuses new connections after drain", async () => {
    const serving = issueCert(ca1, {
      name: "drain",
      commonName: "webhook",
      ips: ["127.0.0.1"],
      usage: "server",
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived = 0;
    const running = await startServer({
      ...serving,
      handleReview: async () => {
        arrived++;
        await gate;
        return { status: 200, body: { error: "slow answer" } };
      },
    });
    let answered = false;
    const inFlight = postJson(`${running.url}/mutate`, {}, { ca: ca1.pem }).finally(() => {
      answered = true;
    });
    await waitFor(() => arrived === 1, "the request to reach the handler");
    expect(running.server.inFlight).toBe(1);
    const drained = running.server.drain(5_000);
    // New connections are refused while the held request is still in flight.
    const refusedWhileHeld = async () => {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        try {
          await postJson(`${running.url}/healthz`, undefined, { ca: ca1.pem, method: "GET" });
        } catch (error) {
          return String((error as { code?: string }).code ?? error);
        }
      }
      return "still accepting connections after 10 s";
    };
    expect(await refusedWhileHeld()).toBe("ECONNREFUSED");
    expect(answered).toBe(false);
    expect(running.server.inFlight).toBe(1);
    release();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ error: "slow answer" });
    await drained;
    running.tls.stop();
  });
});
