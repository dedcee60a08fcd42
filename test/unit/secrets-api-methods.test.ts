// A known route of the secrets API with a method it does not serve answers 405 with Allow (the
// methods it does serve), not 404 "not found"; unknown paths stay 404.

import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretsApi } from "../../src/secrets-api/app.js";
import { StoreWriter } from "../../src/secrets-api/store-writer.js";

let port = 0;
let close: () => void;
const storeCalls: string[] = [];

beforeAll(async () => {
  const app = createSecretsApi({
    review: async (token) => (token === "good" ? { username: "alice", groups: [] } : undefined),
    mapping: { usernamePrefixes: [""] },
    store: new StoreWriter(
      {
        request: async <T>(method: string, path: string): Promise<T> => {
          storeCalls.push(`${method} ${path}`);
          throw new Error("the store is not used by these requests");
        },
      },
      "jobs",
    ),
    readiness: () => [],
    log: { request: () => undefined, error: () => undefined },
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  port = (server.address() as AddressInfo).port;
  close = () => server.close();
});

afterAll(() => close?.());

function call(method: string, path: string): Promise<{ status: number; allow: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method, path, headers: { authorization: "Bearer good" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            allow: res.headers.allow,
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("the secrets API's unsupported methods", () => {
  it("answers PUT and PATCH on a key with 405 and Allow: DELETE", async () => {
    for (const method of ["PUT", "PATCH", "POST"]) {
      const answer = await call(method, "/api/v1/secrets/k");
      expect(answer.status).toBe(405);
      expect(answer.allow).toBe("DELETE");
      expect(JSON.parse(answer.text)).toEqual({
        error: 'this URL answers only DELETE: see README, "Secrets API wire format"',
      });
    }
  });

  it("answers PUT and DELETE on the collection with 405 and Allow: GET, POST", async () => {
    for (const method of ["PUT", "DELETE"]) {
      const answer = await call(method, "/api/v1/secrets");
      expect(answer.status).toBe(405);
      expect(answer.allow).toBe("GET, POST");
    }
    expect(storeCalls).toEqual([]);
  });

  it("still answers 404 for unknown paths", async () => {
    expect((await call("PUT", "/api/v1/other")).status).toBe(404);
    expect((await call("GET", "/api/v1/secrets/a/b")).status).toBe(404);
  });
});
