// The secrets API's routes on a loopback socket, without a cluster: what each request logs (the
// fields the metrics are counted by) and answers when the caller sends hostile text. Requests
// here never reach a store; the e2e suite runs the real process against the real API server.

import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretsApi } from "./app.js";
import { StoreWriter } from "./store-writer.js";

interface Logged {
  method: string;
  route: string;
  status: number;
  key?: string | undefined;
}

const logged: Logged[] = [];
let port = 0;
let close: () => void;

const unusedStore = new StoreWriter(
  {
    request: () => Promise.reject(new Error("these tests never reach a store")),
  },
  "jobs",
);

beforeAll(async () => {
  const app = createSecretsApi({
    review: async (token) => (token === "good" ? { username: "alice", groups: [] } : undefined),
    mapping: { usernamePrefixes: [""] },
    store: unusedStore,
    readiness: () => [],
    log: {
      request: (fields) => logged.push(fields),
      error: () => undefined,
    },
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  port = (server.address() as AddressInfo).port;
  close = () => server.close();
});

afterAll(() => close?.());

function send(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Waits for the log line of the last request (it is written when the response finishes). */
async function lastLogged(count: number): Promise<Logged> {
  // A deadline, not a window: a loaded machine may take long, and a missing line still fails.
  const deadline = Date.now() + 10_000;
  while (logged.length < count) {
    if (Date.now() > deadline) throw new Error(`log line ${count} was never written`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return logged[count - 1] as Logged;
}

describe("the secrets API's request labels", () => {
  it("labels unknown paths 'unmatched' and unknown methods 'other', with and without a token", async () => {
    const labels = new Set<string>();
    const methods = ["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "PROPFIND", "PURGE"];
    const paths = ["/api/", "/api/v2/secrets", "/x", "/api/v1/secrets/a/b", "/api/v1/secretsX"];
    for (const [i, method] of methods.entries()) {
      const auths: Record<string, string>[] = [
        {},
        { authorization: "Bearer good" },
        { authorization: "Bearer bad" },
      ];
      for (const auth of auths) {
        for (const base of paths) {
          const path = `${base}${"r".repeat(i)}${Math.random().toString(36).slice(2)}`;
          const before = logged.length;
          const answer = await send(method, path, auth);
          expect([401, 404]).toContain(answer.status);
          const line = await lastLogged(before + 1);
          labels.add(`${line.method} ${line.route}`);
          expect(JSON.stringify(line)).not.toContain(path);
        }
      }
    }
    expect([...labels].sort()).toEqual(
      ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT", "other"].map((m) => `${m} unmatched`).sort(),
    );
  });

  it("labels known routes by their template, whatever the key or the answer", async () => {
    const cases: Array<[string, string, Record<string, string>, number, string]> = [
      ["GET", "/api/v1/secrets", {}, 401, "/api/v1/secrets"],
      ["POST", "/api/v1/secrets", { authorization: "Bearer bad" }, 401, "/api/v1/secrets"],
      [
        "DELETE",
        `/api/v1/secrets/${"k".repeat(300)}`,
        { authorization: "Bearer good" },
        400,
        "/api/v1/secrets/:key",
      ],
      ["GET", "/api/v1/secrets/some-key", { authorization: "Bearer good" }, 405, "/api/v1/secrets/:key"],
      ["DELETE", "/api/v1/secrets/some-key", {}, 401, "/api/v1/secrets/:key"],
    ];
    for (const [method, path, headers, status, route] of cases) {
      const before = logged.length;
      expect((await send(method, path, headers)).status, `${method} ${path}`).toBe(status);
      expect(await lastLogged(before + 1)).toMatchObject({ method, route, status });
    }
  });

  it("logs a key only when it is a valid name, and quotes at most 100 characters of a bad one", async () => {
    const long = `bad!${"x".repeat(10_000)}`;
    const before = logged.length;
    const answer = await send("DELETE", `/api/v1/secrets/${long}`, { authorization: "Bearer good" });
    expect(answer.status).toBe(400);
    expect(answer.text.length).toBeLessThan(400);
    expect(answer.text).toContain("(10004 characters)");
    expect((await lastLogged(before + 1)).key).toBeUndefined();

    const posted = await send(
      "POST",
      "/api/v1/secrets",
      { authorization: "Bearer good", "content-type": "application/json" },
      JSON.stringify({ key: long, value: "eA==" }),
    );
    expect(posted.status).toBe(400);
    expect(posted.text.length).toBeLessThan(400);
  });

  it("reads only the body's own fields: a key under __proto__ is no key", async () => {
    const answer = await send(
      "POST",
      "/api/v1/secrets",
      { authorization: "Bearer good", "content-type": "application/json" },
      '{"__proto__": {"key": "k", "value": "eA=="}}',
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text).error).toContain('the body needs "key"');
  });

  it("does not read the body of a caller without a valid token", async () => {
    const answer = await send(
      "POST",
      "/api/v1/secrets",
      { "content-type": "application/json" },
      "{this is not JSON",
    );
    expect(answer).toMatchObject({ status: 401 });
  });

  it("answers 400, not 500, to a key that is not valid percent-encoding", async () => {
    const before = logged.length;
    const answer = await send("DELETE", "/api/v1/secrets/%zz", { authorization: "Bearer good" });
    expect(answer.status).toBe(400);
    expect(await lastLogged(before + 1)).toMatchObject({ status: 400 });
  });
});
