// Bounded memory under load: the bytes of review bodies held at once are capped over all
// connections. Beyond the cap a request is answered 429 at once, its body is never buffered, and
// its connection stays usable; bodies with and without Content-Length are both counted.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/server/app.js";
import { BodyBudget } from "../../src/server/body-budget.js";
import { CertifiedListener } from "../../src/server/https-server.js";
import type { HandledReview } from "../../src/server/review-handler.js";
import { createCa, issueCert, type TestCa } from "../support/certs.js";
import { postJson } from "../support/https-client.js";

const MAX_BODY = 64 * 1024;
const BUDGET = 2 * MAX_BODY + 8 * 1024;
let dir: string;
let ca: TestCa;
let url: string;
let server: CertifiedListener;
const budget = new BodyBudget(BUDGET);
let busyCount = 0;
const gates: Array<() => void> = [];

/** A body of exactly `bytes` bytes; `hold` keeps its request in flight until released. */
function body(bytes: number, uid: string): string {
  const head = `{"uid":"${uid}","pad":"`;
  return `${head}${"x".repeat(bytes - head.length - 2)}"}`;
}

function waitFor(condition: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const poll = () => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error("condition not met in 10 s"));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

/** POST with chunked transfer encoding (no Content-Length). */
function postChunked(text: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", ca: ca.pem, agent: false, headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on("error", reject);
    for (let at = 0; at < text.length; at += 8192) req.write(text.slice(at, at + 8192));
    req.end();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "apolo-budget-"));
  ca = createCa(dir, "ca");
  const serving = issueCert(ca, { name: "serving", commonName: "w", ips: ["127.0.0.1"], usage: "server" });
  const app = createApp({
    handleReview: (parsed): HandledReview | Promise<HandledReview> => {
      const uid = (parsed as { uid: string }).uid;
      const answer = { status: 200, body: { error: `answered ${uid}` } };
      if (!uid.startsWith("hold")) return answer;
      return new Promise((resolve) => gates.push(() => resolve(answer)));
    },
    readiness: () => [],
    maxBodyBytes: MAX_BODY,
    bodyBudget: budget,
    onBusy: () => busyCount++,
  });
  let listening: (port: number) => void = () => {};
  let failed: (error: Error) => void = () => {};
  const started = new Promise<number>((resolve, reject) => {
    listening = resolve;
    failed = reject;
  });
  server = new CertifiedListener(
    app,
    { host: "127.0.0.1", port: 0, keepAliveTimeoutMs: 120_000 },
    listening,
    failed,
  );
  server.use({ cert: readFileSync(serving.certFile), key: readFileSync(serving.keyFile) });
  url = `https://127.0.0.1:${await started}/mutate`;
});

afterAll(async () => {
  await server.drain(1000);
  rmSync(dir, { recursive: true, force: true });
});

describe("the in-flight body budget", () => {
  it("refuses with 429 beyond the budget, keeps the connection usable, and admits small reviews beside large ones", async () => {
    const held = [
      postJson(url, undefined, { ca: ca.pem, raw: body(MAX_BODY - 100, "hold-1") }),
      postJson(url, undefined, { ca: ca.pem, raw: body(MAX_BODY - 100, "hold-2") }),
    ];
    await waitFor(() => gates.length === 2);
    expect(budget.usedBytes).toBe(2 * (MAX_BODY - 100));

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const refused = await postJson(url, undefined, { ca: ca.pem, agent, raw: body(MAX_BODY - 100, "third") });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      error: `the webhook is at its limit of ${BUDGET} bytes of review bodies in flight (--max-inflight-body-bytes); retry shortly`,
    });
    expect(busyCount).toBe(1);
    // The same connection answers the next request.
    const small = await postJson(url, undefined, { ca: ca.pem, agent, raw: body(1000, "small") });
    expect(small).toMatchObject({ status: 200, body: { error: "answered small" } });
    agent.destroy();

    // Without Content-Length the body is counted as it arrives.
    const chunkedRefused = await postChunked(body(MAX_BODY - 100, "chunked-1"));
    expect(chunkedRefused.status).toBe(429);
    expect(busyCount).toBe(2);

    for (const release of gates.splice(0)) release();
    expect((await Promise.all(held)).map((a) => a.status)).toEqual([200, 200]);
    await waitFor(() => budget.usedBytes === 0);

    const chunked = await postChunked(body(MAX_BODY - 100, "chunked-2"));
    expect(chunked).toEqual({ status: 200, body: { error: "answered chunked-2" } });
    await waitFor(() => budget.usedBytes === 0);
  });

  it("releases what a request reserved when its client goes away mid-body", async () => {
    await new Promise<void>((resolve) => {
      const req = request(url, {
        method: "POST",
        ca: ca.pem,
        agent: false,
        headers: { "content-length": String(MAX_BODY - 100) },
      });
      req.on("error", () => {});
      // Only the byte that arrived is held, not the declared length.
      req.write("{", () => {
        void waitFor(() => budget.usedBytes === 1).then(() => {
          req.destroy();
          resolve();
        });
      });
    });
    await waitFor(() => budget.usedBytes === 0);
  });
});
