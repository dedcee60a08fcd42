// The secrets API's cap on request bodies in flight: a body's declared length is held from
// authentication until its answer; beyond the cap 429 with Retry-After; chunked bodies are refused.

import { request } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ByteBudget, bodyGate } from "./body-gate.js";

// A plain counter (serve-api.ts passes the webhook's BodyBudget, which secrets-api/ may not import).
const budget: ByteBudget & { usedBytes: number } = {
  limitBytes: 1000,
  usedBytes: 0,
  tryReserve(bytes) {
    if (this.usedBytes + bytes > this.limitBytes) return false;
    this.usedBytes += bytes;
    return true;
  },
  release(bytes) {
    this.usedBytes -= bytes;
  },
};
let port = 0;
let close: () => void;

beforeAll(async () => {
  const app = express();
  app.post("/", bodyGate(budget, 900), express.json({ limit: 900 }), (_request, response) => {
    response.status(201).json({ ok: true });
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  port = (server.address() as AddressInfo).port;
  close = () => server.close();
});

afterAll(() => close?.());

function post(body: string, headers: Record<string, string | number>, hold = false) {
  let finish: () => void = () => {};
  const answer = new Promise<{ status: number; retryAfter: unknown; text: string }>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method: "POST", path: "/", agent: false, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers["retry-after"],
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    if (hold) {
      req.write(body.slice(0, 10));
      finish = () => req.end(body.slice(10));
    } else req.end(body);
  });
  return { answer, finish: () => finish() };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe("bodyGate", () => {
  it("holds a declared body until its answer and refuses with 429 beyond the cap", async () => {
    const big = `{"v":"${"x".repeat(792)}"}`;
    const held = post(big, { "content-type": "application/json", "content-length": big.length }, true);
    await until(() => budget.usedBytes === big.length);

    const second = `{"v":"${"y".repeat(292)}"}`;
    const refused = await post(second, {
      "content-type": "application/json",
      "content-length": second.length,
    }).answer;
    expect(refused).toMatchObject({ status: 429, retryAfter: "1" });
    expect(JSON.parse(refused.text)).toEqual({
      error:
        "the secrets API is at its limit of 1000 bytes of request bodies in flight (--max-inflight-body-bytes); retry shortly",
    });

    held.finish();
    expect((await held.answer).status).toBe(201);
    await until(() => budget.usedBytes === 0);
    const accepted = await post(second, {
      "content-type": "application/json",
      "content-length": second.length,
    }).answer;
    expect(accepted.status).toBe(201);
  });

  it("refuses a chunked body (no Content-Length) with 411 and leaves too-large ones to the reader", async () => {
    const chunked = await post('{"v":1}', {
      "content-type": "application/json",
      "transfer-encoding": "chunked",
    }).answer;
    expect(chunked.status).toBe(411);
    expect(chunked.text).toContain("Content-Length");
    const large = `{"v":"${"z".repeat(950)}"}`;
    const tooLarge = await post(large, { "content-type": "application/json", "content-length": large.length })
      .answer;
    expect(tooLarge.status).toBe(413);
    expect(budget.usedBytes).toBe(0);
  });
});
