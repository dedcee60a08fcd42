// Found by attack 13 (fixed): request bodies with a Content-Encoding or charset. The secrets API's JSON reader
// (express.json, inflate on by default) inflates gzip, deflate and br bodies, so:
// - the in-flight body budget (--max-inflight-body-bytes), which reserves the declared
//   Content-Length, counts a 1.4 KB gzip body although the server inflates, holds and parses
//   1.3 MB for it: a platform user can hold about a thousand times the budget at once;
// - an encoding or charset the reader does not know, or a corrupt gzip body, answers 500
//   "internal error" (and an error log line) instead of the caller's mistake (415 / 400).

import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretsApi } from "../../src/secrets-api/app.js";
import { StoreWriter } from "../../src/secrets-api/store-writer.js";
import { BodyBudget } from "../../src/server/body-budget.js";

const writes: string[] = [];
const errors: string[] = [];
let port = 0;
let close: () => void;

// A store double that records every write (no Secret exists yet, so each add is a POST).
const store = new StoreWriter(
  {
    request: async <T>(method: string, path: string, options?: { body?: unknown }): Promise<T> => {
      if (method === "GET") {
        const { KubeError } = await import("../../src/kube/api-client.js");
        throw new KubeError(404, "not found");
      }
      writes.push(`${method} ${path} ${JSON.stringify(options?.body).length}`);
      return options?.body as T;
    },
  },
  "jobs",
);

// The smallest budget the API accepts (1 MiB): a plain body larger than it is refused (429).
const budget = new BodyBudget(1024 * 1024);

beforeAll(async () => {
  const app = createSecretsApi({
    review: async (token) => (token === "good" ? { username: "alice", groups: [] } : undefined),
    mapping: { usernamePrefixes: [""] },
    store,
    readiness: () => [],
    bodyBudget: budget,
    log: { request: () => undefined, error: (message) => errors.push(message) },
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  port = (server.address() as AddressInfo).port;
  close = () => server.close();
});

afterAll(() => close?.());

function post(headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/api/v1/secrets",
        headers: {
          authorization: "Bearer good",
          "content-type": "application/json",
          "content-length": String(body.length),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

// 1 MB of value: 1.33 MB of JSON, more than the whole 1 MiB budget.
const bigJson = Buffer.from(
  JSON.stringify({ key: "big", value: Buffer.alloc(1_000_000, 7).toString("base64") }),
);

describe("attack13: compressed request bodies and the in-flight body budget", () => {
  it("refuses plainly a body larger than the whole budget (the control case)", async () => {
    const answer = await post({}, bigJson);
    expect(answer.status).toBe(429);
  });

  it("does not accept the same body gzip-compressed, which the budget counts at its 1.4 KB", async () => {
    const compressed = gzipSync(bigJson);
    expect(compressed.length).toBeLessThan(5_000);
    const before = writes.length;
    const answer = await post({ "content-encoding": "gzip" }, compressed);
    // Either refuse encoded bodies (415) or count their inflated size (429): never hold 1.3 MB
    // for a reservation of 1.4 KB. Today: 201 and the 1.3 MB value written.
    expect([413, 415, 429]).toContain(answer.status);
    expect(writes.length).toBe(before);
  });
});

describe("attack13: a body the reader cannot decode is the caller's mistake, not a 500", () => {
  const small = Buffer.from(JSON.stringify({ key: "k", value: "dg==" }));

  it("answers an unknown Content-Encoding with 415 and a clear message", async () => {
    const answer = await post({ "content-encoding": "x-unknown" }, small);
    expect(answer.status).toBe(415);
    expect(answer.text).not.toContain("internal error");
  });

  it("answers an unknown charset with 415 and a clear message", async () => {
    const answer = await post({ "content-type": "application/json; charset=x-unknown" }, small);
    expect(answer.status).toBe(415);
    expect(answer.text).not.toContain("internal error");
  });

  it("answers a corrupt gzip body with 400 or 415, and logs no internal error for it", async () => {
    const before = errors.length;
    const answer = await post({ "content-encoding": "gzip" }, Buffer.from("not gzip at all"));
    expect([400, 415]).toContain(answer.status);
    expect(errors.length).toBe(before);
  });
});
