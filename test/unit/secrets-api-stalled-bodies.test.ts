// Found by attack 13 (fixed): the secrets API's in-flight body budget reserves each add's *declared*
// Content-Length when its headers arrive, and holds it until the request ends (the server cuts a
// stalled body after 35 s). So one platform user opens five adds that declare 6 MiB in all, sends
// ten bytes on each, and every other user's add, however small, is refused 429 for as long as the
// connections are renewed: no bandwidth, no memory spent. (The webhook's budget counts bytes as
// they arrive, never from a declared length; README "--max-inflight-body-bytes".)

import { type ClientRequest, request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretsApi } from "../../src/secrets-api/app.js";
import { StoreWriter } from "../../src/secrets-api/store-writer.js";
import { BodyBudget } from "../../src/server/body-budget.js";

let port = 0;
let close: () => void;
const budget = new BodyBudget(6 * 1024 * 1024); // the API's default --max-inflight-body-bytes

const store = new StoreWriter(
  {
    request: async <T>(method: string, _path: string, options?: { body?: unknown }): Promise<T> => {
      if (method === "GET") {
        const { KubeError } = await import("../../src/kube/api-client.js");
        throw new KubeError(404, "not found");
      }
      return options?.body as T;
    },
  },
  "jobs",
);

beforeAll(async () => {
  const app = createSecretsApi({
    review: async (token) =>
      token === "alice" || token === "bob" ? { username: token, groups: [] } : undefined,
    mapping: { usernamePrefixes: [""] },
    store,
    readiness: () => [],
    bodyBudget: budget,
    log: { request: () => undefined, error: () => undefined },
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  port = (server.address() as AddressInfo).port;
  close = () => {
    server.closeAllConnections();
    server.close();
  };
});

afterAll(() => close?.());

/** An add that declares `declared` bytes and sends ten of them; `answered` gets its status, if any. */
function stalledAdd(token: string, declared: number, answered: number[]): ClientRequest {
  const req = request(
    {
      host: "127.0.0.1",
      port,
      method: "POST",
      path: "/api/v1/secrets",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "content-length": String(declared),
      },
    },
    (res) => {
      answered.push(res.statusCode ?? 0);
      res.resume();
    },
  );
  req.on("error", () => undefined);
  req.write('{"key": "x');
  return req;
}

function add(token: string): Promise<number> {
  const body = JSON.stringify({ key: "small", value: "dg==" });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/api/v1/secrets",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("attack13: stalled adds and the in-flight body budget", () => {
  it("still takes bob's 40-byte add while alice holds five stalled adds declaring the budget", async () => {
    // Four of the largest body the API reads (1.5 MB) and one for the rest of the 6 MiB.
    const declared = [1_500_000, 1_500_000, 1_500_000, 1_500_000, budget.limitBytes - 6_000_000];
    const answered: number[] = [];
    const stalled = declared.map((bytes) => stalledAdd("alice", bytes, answered));
    try {
      // Wait (with a deadline, not a window) until alice's stalled adds are all taken in or refused.
      // (Before the fix the budget held their declared 6 MiB here, budget.usedBytes === limitBytes.)
      const deadline = Date.now() + 10_000;
      while ((answered.length < 4 || budget.usedBytes < 10) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      // One largest body's declaration per caller: the other four are refused at once...
      expect(answered).toEqual([429, 429, 429, 429]);
      // ...and the budget holds what alice sent of the one being read (10 bytes), not what it declares.
      expect(budget.usedBytes).toBe(10);
      // Before the fix: 429 "the secrets API is at its limit ... of request bodies in flight".
      expect(await add("bob")).toBe(201);
    } finally {
      for (const req of stalled) req.destroy();
    }
  });
});
