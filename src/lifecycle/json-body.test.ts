import type { IncomingMessage } from "node:http";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { type BodyResult, type ByteBudget, readJsonBody } from "./json-body.js";

function budgetOf(limitBytes: number): ByteBudget & { used: () => number } {
  let used = 0;
  return {
    limitBytes,
    tryReserve(bytes) {
      if (used + bytes > limitBytes) return false;
      used += bytes;
      return true;
    },
    release(bytes) {
      used -= bytes;
    },
    used: () => used,
  };
}

/** Feeds `chunks` through a stream posing as a request; resolves with the reader's one result. */
function read(
  chunks: string[],
  limit: number,
  budget: ByteBudget | undefined,
  headers: Record<string, string> = {},
): Promise<{ body: BodyResult; lease: number; calls: number }> {
  return new Promise((resolve) => {
    const stream = new PassThrough();
    const request = Object.assign(stream, { headers }) as unknown as IncomingMessage;
    const lease = { bytes: 0 };
    let calls = 0;
    let first: BodyResult | undefined;
    readJsonBody(request, limit, budget, lease, (body) => {
      calls++;
      first ??= body;
    });
    for (const chunk of chunks) stream.write(chunk);
    stream.end();
    stream.on("end", () =>
      setImmediate(() => resolve({ body: first as BodyResult, lease: lease.bytes, calls })),
    );
    stream.resume();
  });
}

describe("readJsonBody", () => {
  it("parses a body sent in pieces and leases exactly its bytes", async () => {
    const budget = budgetOf(100);
    const result = await read(['{"a":', "[1,2]}"], 100, budget);
    expect(result).toEqual({ body: { kind: "json", value: { a: [1, 2] } }, lease: 11, calls: 1 });
    expect(budget.used()).toBe(11);
  });

  it("refuses a declared length over the limit before reading", async () => {
    const result = await read(["{}"], 10, undefined, { "content-length": "11" });
    expect(result.body).toEqual({ kind: "too-large" });
    expect(result.lease).toBe(0);
  });

  it("stops at the limit, and at the budget, answering once", async () => {
    expect((await read(["12345", "678901"], 10, undefined)).body).toEqual({ kind: "too-large" });
    const budget = budgetOf(6);
    const busy = await read(["12345", "678901"], 100, budget);
    expect(busy).toMatchObject({ body: { kind: "busy" }, calls: 1, lease: 5 });
  });

  it("tells an empty body and invalid JSON apart", async () => {
    expect((await read([], 10, undefined)).body).toEqual({ kind: "empty" });
    expect((await read(["{nope"], 10, undefined)).body).toEqual({ kind: "invalid" });
  });

  it("calls nothing once stopped", async () => {
    const stream = new PassThrough();
    const request = Object.assign(stream, { headers: {} }) as unknown as IncomingMessage;
    let calls = 0;
    const stop = readJsonBody(request, 100, undefined, { bytes: 0 }, () => calls++);
    stream.write('{"a":');
    stop();
    stream.end("1}");
    stream.resume();
    await new Promise((resolve) => stream.on("end", () => setImmediate(resolve)));
    expect(calls).toBe(0);
  });
});
