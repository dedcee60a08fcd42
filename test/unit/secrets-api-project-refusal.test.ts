// Found by attack 13 (fixed): the project scope's refusal (403) quotes the caller's user name as the TokenReview
// gave it, whole. Every other answer quotes the caller's text at most 100 characters (wire.ts,
// owner-mapping.ts use excerpt()); a user name from a JWT claim is the IdP's user's text and may
// be kilobytes long; the request log's 'user' field likewise. And what the project scope asks (the SubjectAccessReview) is checked here
// too: the caller's groups, uid and extra go as the TokenReview gave them, one review per request.

import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretsApi } from "../../src/secrets-api/app.js";
import { SubjectAccessReviewer } from "../../src/secrets-api/project-access.js";
import { StoreWriter } from "../../src/secrets-api/store-writer.js";
import type { Identity } from "../../src/secrets-api/token-review.js";

const LONG_USER = `oidc:${"x".repeat(5_000)}`;
const reviews: Array<{ spec: Record<string, unknown> }> = [];
const storeCalls: string[] = [];
const loggedUsers: Array<string | undefined> = [];
let port = 0;
let close: () => void;

const identities: Record<string, Identity> = {
  long: { username: LONG_USER, groups: [] },
  outsider: { username: "bob", groups: [] },
  member: {
    username: "alice",
    groups: ["system:authenticated", "team"],
    uid: "u-1",
    extra: { scopes: ["a", "b"] },
  },
};

beforeAll(async () => {
  const kube = {
    request: async <T>(_method: string, path: string, options?: { body?: unknown }): Promise<T> => {
      if (path.endsWith("/subjectaccessreviews")) {
        const body = options?.body as { spec: Record<string, unknown> };
        reviews.push(body);
        return { status: { allowed: body.spec.user === "alice" } } as T;
      }
      storeCalls.push(path);
      const { KubeError } = await import("../../src/kube/api-client.js");
      throw new KubeError(404, "not found");
    },
  };
  const app = createSecretsApi({
    review: async (token) => identities[token],
    mapping: { usernamePrefixes: [""] },
    store: new StoreWriter(kube, "jobs"),
    readiness: () => [],
    projects: new SubjectAccessReviewer(kube, "jobs"),
    log: { request: (fields) => loggedUsers.push(fields.user), error: () => undefined },
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  port = (server.address() as AddressInfo).port;
  close = () => server.close();
});

afterAll(() => close?.());

function get(path: string, token: string, method = "GET"): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method, path, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("attack13: the project scope's refusal", () => {
  it("quotes a long user name at most 100 characters, like every other answer", async () => {
    const answer = await get("/api/v1/secrets?org_name=acme&project_name=vision", "long");
    expect(answer.status).toBe(403);
    // The rest of the message (permission, advice) is about 250 characters.
    expect(answer.text.length).toBeLessThan(600);
    expect(answer.text).not.toContain("x".repeat(200));
  });

  it("logs a long user name bounded too (the request log line and its 'user' field)", async () => {
    loggedUsers.length = 0;
    await get("/api/v1/secrets?org_name=acme&project_name=vision", "long");
    const deadline = Date.now() + 10_000;
    while (loggedUsers.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(loggedUsers).toHaveLength(1);
    expect((loggedUsers[0] ?? "").length).toBeLessThan(300);
  });

  it("asks the review with the caller's groups, uid and extra intact and the right name and verb", async () => {
    reviews.length = 0;
    const list = await get("/api/v1/secrets?org_name=acme.x&project_name=b.c", "member");
    expect(list.status).toBe(200);
    expect(reviews).toHaveLength(1);
    expect(reviews[0]?.spec).toEqual({
      user: "alice",
      groups: ["system:authenticated", "team"],
      uid: "u-1",
      extra: { scopes: ["a", "b"] },
      resourceAttributes: {
        namespace: "jobs",
        group: "secrets.apolo.us",
        resource: "projects",
        name: "acme.x--b.c",
        verb: "get",
      },
    });
  });

  it("tells a non-member nothing about a store: same answer for any key, the store never read", async () => {
    storeCalls.length = 0;
    const query = "?org_name=acme&project_name=vision";
    const answers = await Promise.all([
      get(`/api/v1/secrets/present${query}`, "outsider", "DELETE"),
      get(`/api/v1/secrets/absent${query}`, "outsider", "DELETE"),
      get(`/api/v1/secrets${query}`, "outsider"),
    ]);
    expect(answers.map((a) => a.status)).toEqual([403, 403, 403]);
    expect(answers[0]?.text).toBe(answers[1]?.text);
    expect(storeCalls).toEqual([]);
  });
});
