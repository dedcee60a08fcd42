// The secrets API's body reader and its caps: bytes are held from the budget as they arrive (not
// as declared) until the answer; one caller's declared lengths are capped at one largest body;
// beyond either cap 429 with Retry-After; chunked bodies are refused (411); compressed bodies and
// charsets other than UTF-8 are refused (415); a body that stops arriving is cut (408).

import { request } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ByteBudget, bodyGate, charsetOf } from "./body-gate.js";
import { HttpError } from "./http-error.js";

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
const bodies: unknown[] = [];
let port = 0;
let close: () => void;

beforeAll(async () => {
  const app = express();
  const gate = bodyGate({
    budget,
    maxBodyBytes: 900,
    readTimeoutMs: 300,
    callerOf: (response) => String(response.locals.user),
  });
  app.post(
    "/",
    (request, response, next) => {
      response.locals.user = request.headers["x-user"] ?? "alice";
      next();
    },
    gate,
    (request, response) => {
      bodies.push(request.body);
      response.status(201).json({ ok: true });
    },
  );
  app.use(((error, _request, response, _next) => {
    if (!(error instanceof HttpError)) throw error;
    response.set(error.headers).status(error.status).json({ error: error.message });
  }) satisfies express.ErrorRequestHandler);
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  port = (server.address() as AddressInfo).port;
  close = () => {
    server.closeAllConnections();
    server.close();
  };
});

afterAll(() => close?.());

interface Answer {
  status: number;
  retryAfter: unknown;
  text: string;
}

function post(body: string, headers: Record<string, string | number>, hold = false) {
  let finish: () => void = () => {};
  const answer = new Promise<Answer>((resolve, reject) => {
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

const json = (body: string, user = "alice") => ({
  "content-type": "application/json",
  "content-length": Buffer.byteLength(body),
  "x-user": user,
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

const BUSY =
  "the secrets API is at its limit of 1000 bytes of request bodies in flight (--max-inflight-body-bytes); retry shortly";

describe("bodyGate", () => {
  it("holds the bytes that arrived, not the declared length, and frees them after the answer", async () => {
    const big = `{"v":"${"x".repeat(792)}"}`;
    const held = post(big, json(big), true);
    await until(() => budget.usedBytes === 10);

    // Another caller's 300 bytes fit beside alice's 10 (a declared-length count would refuse them).
    const small = `{"v":"${"y".repeat(292)}"}`;
    expect((await post(small, json(small, "bob")).answer).status).toBe(201);

    held.finish();
    expect((await held.answer).status).toBe(201);
    await until(() => budget.usedBytes === 0);
    expect(bodies.at(-1)).toEqual({ v: "x".repeat(792) });
  });

  it("refuses with 429 a body whose bytes do not fit beside the others, and keeps none of it", async () => {
    const bobs = `{"v":"${"y".repeat(292)}"}`;
    const filler = `{"v":"${"f".repeat(792)}"}`;
    const carol = post(filler, json(filler, "carol"), true);
    await until(() => budget.usedBytes === 10);
    budget.usedBytes += 900; // what two more callers' bodies would hold
    const refused = await post(bobs, json(bobs, "bob")).answer;
    expect(refused).toMatchObject({ status: 429, retryAfter: "1" });
    expect(JSON.parse(refused.text)).toEqual({ error: BUSY });
    expect(budget.usedBytes).toBe(910);
    budget.usedBytes -= 900;
    carol.finish();
    expect((await carol.answer).status).toBe(201);
    await until(() => budget.usedBytes === 0);
  });

  it("lets one caller declare at most one largest body at a time (429), other callers unaffected", async () => {
    const body = `{"v":"${"x".repeat(592)}"}`;
    const held = post(body, json(body), true);
    await until(() => budget.usedBytes === 10);
    const second = `{"v":"${"y".repeat(392)}"}`;
    const refused = await post(second, json(second)).answer;
    expect(refused).toMatchObject({ status: 429, retryAfter: "1" });
    expect(refused.text).toContain("your other adds still being sent");
    expect((await post(second, json(second, "bob")).answer).status).toBe(201);
    held.finish();
    expect((await held.answer).status).toBe(201);
    // Once alice's first add is answered, her next one is taken.
    expect((await post(second, json(second)).answer).status).toBe(201);
    await until(() => budget.usedBytes === 0);
  });

  it("refuses a chunked body (411) and a declared length over the limit (413) without reading them", async () => {
    const chunked = await post('{"v":1}', {
      "content-type": "application/json",
      "transfer-encoding": "chunked",
    }).answer;
    expect(chunked.status).toBe(411);
    expect(chunked.text).toContain("Content-Length");
    const large = `{"v":"${"z".repeat(950)}"}`;
    const tooLarge = await post(large, json(large)).answer;
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.text)).toEqual({ error: "the request is larger than a 1 MiB secret allows" });
    expect(budget.usedBytes).toBe(0);
  });

  it("refuses compressed bodies and charsets other than UTF-8 with 415, naming what to send", async () => {
    const body = '{"v":1}';
    const gzip = await post(body, { ...json(body), "content-encoding": "gzip" }).answer;
    expect(gzip.status).toBe(415);
    expect(JSON.parse(gzip.text).error).toBe(
      "the body is sent with Content-Encoding 'gzip': the secrets API reads only uncompressed JSON; send it without a Content-Encoding header",
    );
    const latin = await post(body, { ...json(body), "content-type": "application/json; charset=latin1" })
      .answer;
    expect(latin.status).toBe(415);
    expect(JSON.parse(latin.text).error).toContain("charset 'latin1' is not supported: send UTF-8 JSON");
    const long = await post(body, { ...json(body), "content-encoding": "x".repeat(5000) }).answer;
    expect(long.status).toBe(415);
    expect(long.text.length).toBeLessThan(400);
    const utf8 = await post(body, { ...json(body), "content-type": 'application/json; charset="UTF-8"' })
      .answer;
    expect(utf8.status).toBe(201);
    const identity = await post(body, { ...json(body), "content-encoding": "identity" }).answer;
    expect(identity.status).toBe(201);
  });

  it("answers invalid JSON with 400 and reads an empty body as {}", async () => {
    const bad = await post("{nope", json("{nope")).answer;
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error).toContain("the body is not valid JSON");
    expect((await post("", json("")).answer).status).toBe(201);
    expect(bodies.at(-1)).toEqual({});
  });

  it("cuts a body that stops arriving with 408 and frees its bytes", { timeout: 10_000 }, async () => {
    const body = `{"v":"${"s".repeat(100)}"}`;
    const stalled = post(body, json(body, "slow"), true);
    const answer = await stalled.answer;
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.text).error).toContain("the body did not arrive within 0.3 s");
    await until(() => budget.usedBytes === 0);
  });
});

describe("charsetOf", () => {
  it("reads the charset parameter, unquoted and lower-cased, and nothing else", () => {
    expect(charsetOf("application/json")).toBeUndefined();
    expect(charsetOf("application/json; charset=UTF-8")).toBe("utf-8");
    expect(charsetOf('application/json;CHARSET="Latin1" ; x=y')).toBe("latin1");
    expect(charsetOf("application/json; boundary=a; charset=utf-16")).toBe("utf-16");
    expect(charsetOf("application/json; charset")).toBeUndefined();
  });
});
