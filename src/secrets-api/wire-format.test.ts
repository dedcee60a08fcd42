// The secrets API in the platform's wire format (what apolo_sdk/_secrets.py sends and reads), on a
// loopback socket with an in-memory store and a stand-in for the cluster's access answers: every
// route, its JSON, its status codes and errors, in the user and the project scope. The e2e suite
// runs the same against the real API server and its RBAC.

import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { KubeError } from "../kube/api-client.js";
import { createSecretsApi } from "./app.js";
import type { ProjectAccess, ProjectRef, ProjectVerb } from "./project-access.js";
import { StoreWriter, type StoreWriterClient } from "./store-writer.js";
import type { Identity } from "./token-review.js";

/** Store Secrets of one namespace, by name; every request is recorded. */
class Secrets implements StoreWriterClient {
  readonly data = new Map<string, Record<string, string>>();
  readonly requests: string[] = [];

  async request<T>(method: string, path: string, options: { body?: unknown } = {}): Promise<T> {
    const name = decodeURIComponent(path.slice(path.lastIndexOf("/") + 1));
    this.requests.push(`${method} ${path}`);
    if (method === "GET") {
      const data = this.data.get(name);
      if (!data) throw new KubeError(404, "not found");
      return { metadata: { name, resourceVersion: "1" }, data } as T;
    }
    const body = options.body as { metadata: { name: string }; data: Record<string, string> };
    this.data.set(body.metadata.name, { ...body.data });
    return body as T;
  }
}

/** The cluster's answers: who may do what to which project; every question is recorded. */
class Access implements ProjectAccess {
  readonly grants = new Set<string>();
  readonly asked: string[] = [];
  failing = false;

  async allowed(identity: Identity, project: ProjectRef, verb: ProjectVerb): Promise<boolean> {
    this.asked.push(`${identity.username} ${verb} ${project.org}/${project.project}`);
    if (this.failing) throw new Error("API server down");
    return this.grants.has(`${identity.username} ${verb} ${project.org}/${project.project}`);
  }

  permission(project: ProjectRef, verb: ProjectVerb): string {
    return `'${verb}' on projects.secrets.apolo.us '${project.org}--${project.project}'`;
  }
}

const USERS: Record<string, Identity> = {
  alice: { username: "alice", groups: [] },
  bob: { username: "bob", groups: [] },
};

interface Server {
  port: number;
  secrets: Secrets;
  close: () => void;
}

async function start(access: Access | undefined): Promise<Server> {
  const secrets = new Secrets();
  const app = createSecretsApi({
    review: async (token) => USERS[token],
    mapping: { usernamePrefixes: [""] },
    store: new StoreWriter(secrets, "jobs"),
    readiness: () => [],
    log: { request: () => undefined, error: () => undefined },
    projects: access,
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { port: (server.address() as AddressInfo).port, secrets, close: () => server.close() };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

function call(server: Server, method: string, path: string, token?: string, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const headers: Record<string, string> = {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(payload ? { "content-type": "application/json" } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : null });
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}

const b64 = (text: string) => Buffer.from(text).toString("base64");
const BASE = "/api/v1/secrets";

describe("the wire format, user scope", () => {
  let server: Server;
  beforeAll(async () => {
    server = await start(undefined);
  });
  afterAll(() => server.close());

  it("adds with POST {key, value, org_name, project_name}: 201 {key, org_name, project_name, owner}, and overwrites", async () => {
    const body = { key: "db_password", value: b64("one"), org_name: "acme", project_name: "vision" };
    const added = await call(server, "POST", BASE, "alice", body);
    expect(added).toMatchObject({ status: 201 });
    expect(added.json).toEqual({
      key: "db_password",
      org_name: "acme",
      project_name: "vision",
      owner: "alice",
    });
    const again = await call(server, "POST", BASE, "alice", { ...body, value: b64("two") });
    expect(again.status).toBe(201);
    expect(server.secrets.data.get("user--alice--secrets")).toEqual({ db_password: b64("two") });
  });

  it("keeps the caller's own store whatever org or project it names, and echoes them (null when absent)", async () => {
    await call(server, "POST", BASE, "bob", {
      key: "k",
      value: b64("v"),
      org_name: "acme",
      project_name: "a",
    });
    const other = await call(server, "POST", BASE, "bob", { key: "k2", value: b64("v") });
    expect(other.json).toEqual({ key: "k2", org_name: null, project_name: null, owner: "bob" });
    expect(Object.keys(server.secrets.data.get("user--bob--secrets") ?? {})).toEqual(["k", "k2"]);
    expect([...server.secrets.data.keys()].some((name) => name.startsWith("project--"))).toBe(false);
    const listed = await call(server, "GET", `${BASE}?org_name=acme&project_name=elsewhere`, "bob");
    expect(listed.json).toEqual([
      { key: "k", org_name: "acme", project_name: "elsewhere", owner: "bob" },
      { key: "k2", org_name: "acme", project_name: "elsewhere", owner: "bob" },
    ]);
  });

  it("lists with GET: 200, a JSON array sorted by key, names only (never a value)", async () => {
    for (const key of ["zeta", "alpha", "__proto__", "Mid"]) {
      await call(server, "POST", BASE, "alice", { key, value: b64(`value-of-${key}`) });
    }
    const listed = await call(server, "GET", `${BASE}?org_name=acme`, "alice");
    expect(listed.status).toBe(200);
    expect(Array.isArray(listed.json)).toBe(true);
    const entries = listed.json as Array<Record<string, unknown>>;
    expect(entries.map((e) => e.key)).toEqual(["Mid", "__proto__", "alpha", "db_password", "zeta"]);
    for (const entry of entries) {
      expect(Object.keys(entry).sort()).toEqual(["key", "org_name", "owner", "project_name"]);
      expect(entry).toMatchObject({ org_name: "acme", project_name: null, owner: "alice" });
    }
    expect(JSON.stringify(listed.json)).not.toContain(b64("value-of-zeta"));
  });

  it("answers an empty array to a caller with no store yet", async () => {
    const fresh = await start(undefined);
    try {
      expect((await call(fresh, "GET", BASE, "alice")).json).toEqual([]);
    } finally {
      fresh.close();
    }
  });

  it("removes with DELETE: 204, then 404 {error: \"Secret 'k' not found\"}", async () => {
    await call(server, "POST", BASE, "alice", { key: "gone", value: b64("x") });
    const removed = await call(server, "DELETE", `${BASE}/gone?org_name=acme&project_name=vision`, "alice");
    expect(removed).toMatchObject({ status: 204, json: null });
    const again = await call(server, "DELETE", `${BASE}/gone?project_name=vision`, "alice");
    expect(again).toMatchObject({ status: 404, json: { error: "Secret 'gone' not found" } });
    // bob's store is his own: alice's keys are not found there.
    const bobs = await call(server, "DELETE", `${BASE}/db_password`, "bob");
    expect(bobs).toMatchObject({ status: 404, json: { error: "Secret 'db_password' not found" } });
  });

  it("refuses GET {key} with 405 and Allow: DELETE: values are never read back", async () => {
    const read = await call(server, "GET", `${BASE}/db_password?org_name=acme&project_name=vision`, "alice");
    expect(read.status).toBe(405);
    expect(read.headers.allow).toBe("DELETE");
    expect(read.json).toEqual({
      error:
        "secret values are never read back: this API only adds, lists names and removes; list the names with GET on the secrets URL (apolo secret ls, apolo-secret ls)",
    });
  });

  it("answers 401 {error} without a token on every route, before reading anything", async () => {
    const before = server.secrets.requests.length;
    for (const [method, path] of [
      ["GET", BASE],
      ["POST", BASE],
      ["DELETE", `${BASE}/k`],
      ["GET", `${BASE}/k`],
    ] as const) {
      const answer = await call(server, method, path, undefined, method === "POST" ? "{broken" : undefined);
      expect(answer.status, `${method} ${path}`).toBe(401);
      expect(Object.keys(answer.json as object)).toEqual(["error"]);
    }
    expect(server.secrets.requests.length).toBe(before);
  });

  it.each([
    [{ key: "k", value: b64("v"), org_name: "Acme" }, 'invalid org_name "Acme": 1 to 63 lowercase letters'],
    [{ key: "k", value: b64("v"), project_name: "a--b" }, 'invalid project_name "a--b"'],
    [{ key: "k", value: b64("v"), project_name: "p".repeat(64) }, "invalid project_name"],
    [{ key: "k", value: b64("v"), org_name: 42 }, "org_name must be a string or null"],
    [{ key: "k", value: b64("v"), project_name: ["a"] }, "give project_name once"],
    [{ key: "k", value: "not base64!" }, "value must be the secret's bytes in base64"],
    [{ value: b64("v") }, 'the body needs "key"'],
    [["k"], "the body must be a JSON object"],
    [{ key: "../etc", value: b64("v") }, 'invalid secret name "../etc"'],
  ])("refuses the body %j with 400 {error} naming the rule", async (body, message) => {
    const answer = await call(server, "POST", BASE, "alice", body);
    expect(answer.status).toBe(400);
    expect(Object.keys(answer.json as object)).toEqual(["error"]);
    expect((answer.json as { error: string }).error).toContain(message);
  });

  it.each([
    [`${BASE}?org_name=a&org_name=b`, "give org_name once"],
    [`${BASE}?project_name=-x`, 'invalid project_name "-x"'],
    [`${BASE}?project_name=${"x".repeat(5000)}`, "(5000 characters)"],
    [`${BASE}/k?org_name=a.-b`, 'invalid org_name "a.-b"'],
    [`${BASE}/k?project_name=p%00`, "invalid project_name"],
  ])("refuses the query of %s with 400 {error}", async (path, message) => {
    const method = path.startsWith(`${BASE}/k`) ? "DELETE" : "GET";
    const answer = await call(server, method, path, "alice");
    expect(answer.status).toBe(400);
    expect((answer.json as { error: string }).error).toContain(message);
    expect((answer.json as { error: string }).error.length).toBeLessThan(400);
  });
});

describe("the wire format, project scope", () => {
  let server: Server;
  let access: Access;
  beforeEach(async () => {
    access = new Access();
    access.grants.add("alice update acme/vision");
    access.grants.add("alice get acme/vision");
    access.grants.add("bob get acme/vision");
    server = await start(access);
    return () => server.close();
  });

  it("lets a member add, list and remove in project--{org}--{project}--secrets, asking update, get, update", async () => {
    const body = { key: "hf_token", value: b64("t"), org_name: "acme", project_name: "vision" };
    const added = await call(server, "POST", BASE, "alice", body);
    expect(added).toMatchObject({ status: 201 });
    expect(added.json).toEqual({
      key: "hf_token",
      org_name: "acme",
      project_name: "vision",
      owner: "acme/vision",
    });
    expect(server.secrets.data.get("project--acme--vision--secrets")).toEqual({ hf_token: b64("t") });
    const listed = await call(server, "GET", `${BASE}?org_name=acme&project_name=vision`, "alice");
    expect(listed.json).toEqual([
      { key: "hf_token", org_name: "acme", project_name: "vision", owner: "acme/vision" },
    ]);
    expect(
      (await call(server, "DELETE", `${BASE}/hf_token?org_name=acme&project_name=vision`, "alice")).status,
    ).toBe(204);
    expect(access.asked).toEqual([
      "alice update acme/vision",
      "alice get acme/vision",
      "alice update acme/vision",
    ]);
    expect([...server.secrets.data.keys()]).toEqual(["project--acme--vision--secrets"]);
  });

  it("refuses a caller the cluster does not allow with 403 naming the permission, before touching the store", async () => {
    await call(server, "POST", BASE, "alice", {
      key: "k",
      value: b64("v"),
      org_name: "acme",
      project_name: "vision",
    });
    const before = server.secrets.requests.length;
    const denied = [
      await call(server, "POST", BASE, "bob", {
        key: "k",
        value: b64("w"),
        org_name: "acme",
        project_name: "vision",
      }),
      await call(server, "DELETE", `${BASE}/k?org_name=acme&project_name=vision`, "bob"),
      await call(server, "GET", `${BASE}?org_name=acme&project_name=nlp`, "alice"),
    ];
    expect(denied.map((a) => a.status)).toEqual([403, 403, 403]);
    expect(denied[0]?.json).toEqual({
      error:
        "'bob' may not change the secrets of project 'acme/vision': that needs 'update' on projects.secrets.apolo.us 'acme--vision'; ask the cluster operator to grant it (a Role and RoleBinding)",
    });
    expect(JSON.stringify(denied[2]?.json)).toContain(
      "'alice' may not list the secrets of project 'acme/nlp'",
    );
    for (const answer of denied) expect(JSON.stringify(answer.json)).not.toContain('"k"');
    expect(server.secrets.requests.length).toBe(before);
    // bob may list (get) but not change.
    expect((await call(server, "GET", `${BASE}?org_name=acme&project_name=vision`, "bob")).json).toHaveLength(
      1,
    );
  });

  it("needs both org_name and project_name, and says so", async () => {
    for (const answer of [
      await call(server, "GET", `${BASE}?org_name=acme`, "alice"),
      await call(server, "POST", BASE, "alice", {
        key: "k",
        value: b64("v"),
        org_name: "acme",
        project_name: null,
      }),
      await call(server, "DELETE", `${BASE}/k?project_name=vision`, "alice"),
    ]) {
      expect(answer.status).toBe(400);
      expect((answer.json as { error: string }).error).toContain(
        "org_name and project_name are both required",
      );
    }
    expect(access.asked).toEqual([]);
  });

  it("answers 503 with Retry-After when the cluster cannot be asked", async () => {
    access.failing = true;
    const answer = await call(server, "GET", `${BASE}?org_name=acme&project_name=vision`, "alice");
    expect(answer.status).toBe(503);
    expect(answer.headers["retry-after"]).toBe("1");
    expect(answer.json).toEqual({ error: "cannot check your access to the project right now: try again" });
  });

  it("still refuses reads with 405 and unknown keys with the platform's 404", async () => {
    expect((await call(server, "GET", `${BASE}/k?org_name=acme&project_name=vision`, "alice")).status).toBe(
      405,
    );
    const missing = await call(server, "DELETE", `${BASE}/nope?org_name=acme&project_name=vision`, "alice");
    expect(missing).toMatchObject({ status: 404, json: { error: "Secret 'nope' not found" } });
  });
});
