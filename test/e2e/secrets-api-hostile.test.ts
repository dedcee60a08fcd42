// Hostile input to the secrets API, the real process against the real API server: a flood of
// distinct unknown paths (with and without a token, several methods) leaves the number of metric
// series unchanged; key names of built-in object properties ("__proto__", "constructor",
// "hasOwnProperty", ...) are stored, listed, removed and used by jobs like any other name.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../cluster/control-plane.js";
import { stopProcess, waitFor } from "../cluster/processes.js";
import { freshUser, type SecretsApi, startSecretsApi, userToken } from "../cluster/secrets-api.js";
import { createPod, e2e, freshNamespace, jobPod, readPod, refusal, storeName } from "./support.js";

const local = e2e().local;
const run = promisify(execFile);
const CLI = join(import.meta.dirname, "../../bin/apolo-secret");
const SERIES = "apolo_secrets_api_requests_total{";

let secretsApi: SecretsApi;
let namespace: string;
let tokens: { alice: string; bob: string };
let agent: Agent;

/** apolo-secret run as `user` (a token); each test that stores keys has a user of its own. */
async function cli(user: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(CLI, args, {
      env: {
        ...process.env,
        APOLO_SECRETS_SERVER: secretsApi.url,
        APOLO_SECRETS_TOKEN: user,
        APOLO_SECRETS_CA_FILE: secretsApi.caFile,
        KUBECONFIG: "/nonexistent",
      },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function send(method: string, path: string, token: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, secretsApi.url),
      { method, agent, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function metricsText(): Promise<string> {
  return fetch(`http://127.0.0.1:${secretsApi.metricsPort}/metrics`).then((r) => r.text());
}

async function seriesCount(): Promise<number> {
  return (await metricsText()).split("\n").filter((line) => line.startsWith(SERIES)).length;
}

/** The store Secret as the API server holds it, read with kubectl (JSON keeps "__proto__" a key). */
function storeSecret(owner: string): { resourceVersion: string; data: Record<string, string> } {
  if (!local) throw new Error("needs the local control plane");
  const text = kubectl(local.plane, "admin", [
    "get",
    "secret",
    storeName(owner),
    "-n",
    namespace,
    "-o",
    "json",
  ]);
  const secret = JSON.parse(text) as { metadata: { resourceVersion: string }; data?: Record<string, string> };
  return { resourceVersion: secret.metadata.resourceVersion, data: secret.data ?? {} };
}

function newUser(): { name: string; token: string } {
  if (!local) throw new Error("needs the local control plane");
  return freshUser(local.plane, "hostile");
}

function storedValue(owner: string, key: string): string | undefined {
  const { data } = storeSecret(owner);
  return Object.hasOwn(data, key) ? Buffer.from(data[key] as string, "base64").toString() : undefined;
}

describe.runIf(local !== undefined)("the secrets API under hostile input", () => {
  beforeAll(async () => {
    if (!local) return;
    namespace = await freshNamespace("hostile-api");
    secretsApi = await startSecretsApi(local.plane, namespace);
    tokens = { alice: userToken(local.plane, "alice"), bob: userToken(local.plane, "bob") };
    agent = new Agent({ keepAlive: true, maxSockets: 16, ca: readFileSync(secretsApi.caFile) });
  });

  afterAll(async () => {
    agent?.destroy();
    if (local) await stopProcess(local.plane.pidFile, "secrets-api");
  });

  it("keeps the number of metric series constant under thousands of distinct unknown paths", async () => {
    const methods = ["GET", "POST", "DELETE", "PUT", "PATCH", "PROPFIND"];
    const who = [undefined, "not-a-token", tokens.alice];
    const unknownPath = (i: number) =>
      [
        `/api/${randomBytes(60).toString("hex")}`,
        `/api/v1/secrets/${i}/${randomBytes(40).toString("hex")}`,
        `/${randomBytes(30).toString("base64url")}`,
        `/api/v1/secrets${randomBytes(20).toString("hex")}`,
      ][i % 4] as string;
    // One request of every kind first: each kind is one series, however many paths follow.
    for (const method of methods) for (const token of who) await send(method, unknownPath(0), token);
    for (const token of who)
      await send("DELETE", `/api/v1/secrets/k${randomBytes(4).toString("hex")}`, token);
    const before = await seriesCount();
    const beforeBytes = (await metricsText()).length;
    expect(before).toBeGreaterThan(0);

    const sent: string[] = [];
    const requests: Array<[string, string, string | undefined]> = [];
    for (let i = 0; i < 3000; i++) {
      const path = unknownPath(i);
      sent.push(path);
      requests.push([methods[i % methods.length] as string, path, who[i % who.length]]);
    }
    // Distinct (valid) key names on the key route, too: the key is not a label either.
    for (let i = 0; i < 150; i++) {
      const path = `/api/v1/secrets/k${randomBytes(8).toString("hex")}`;
      sent.push(path);
      requests.push(["DELETE", path, who[i % who.length]]);
    }
    const statuses = new Set<number>();
    for (let next = 0; next < requests.length; next += 32) {
      const batch = requests.slice(next, next + 32);
      for (const status of await Promise.all(batch.map(([m, p, t]) => send(m, p, t)))) statuses.add(status);
    }
    expect([...statuses].sort()).toEqual([401, 404]);

    expect(await seriesCount()).toBe(before);
    const text = await metricsText();
    // Only the counts' digits may grow.
    expect(text.length).toBeLessThan(beforeBytes + 1000);
    for (const path of sent) expect(text).not.toContain(path.slice(path.lastIndexOf("/") + 1));
    expect(text).toContain('route="unmatched"');
    expect(text).toContain('method="other"');
  });

  it("stores, lists, uses and removes keys named like built-in object properties", async () => {
    const user = newUser();
    const added = await cli(user.token, ["add", "__proto__", "proto-value"]);
    expect(added, added.stderr).toMatchObject({ code: 0, stdout: "added secret '__proto__' (11 bytes)\n" });
    expect((await cli(user.token, ["add", "constructor", "ctor-value"])).code).toBe(0);
    expect(storedValue(user.name, "__proto__")).toBe("proto-value");
    expect(storedValue(user.name, "constructor")).toBe("ctor-value");
    expect(Object.keys(storeSecret(user.name).data).sort()).toEqual(["__proto__", "constructor"]);
    expect((await cli(user.token, ["ls"])).stdout).toBe("KEY\n__proto__\nconstructor\n");

    // A job using them is resolved: env vars and a file name the keys.
    const pod = await createPod(
      "platform",
      namespace,
      jobPod({
        owner: user.name,
        env: { P: "secret:__proto__", C: "secret:constructor" },
        files: ["secret:__proto__:/var/secrets/proto"],
      }),
    );
    const stored = await readPod(namespace, pod.metadata?.name as string);
    const container = stored.spec?.containers[0];
    expect(container?.env?.map((e) => [e.name, e.valueFrom?.secretKeyRef])).toEqual([
      ["P", { name: storeName(user.name), key: "__proto__" }],
      ["C", { name: storeName(user.name), key: "constructor" }],
    ]);
    expect(container?.volumeMounts?.find((m) => m.mountPath === "/var/secrets/proto")?.subPath).toBe(
      "__proto__",
    );
  });

  it("answers 404 for never-added hasOwnProperty, toString and valueOf and leaves the store unchanged", async () => {
    const user = newUser();
    expect((await cli(user.token, ["add", "__proto__", "proto-value"])).code).toBe(0);
    const before = storeSecret(user.name);
    for (const key of ["hasOwnProperty", "toString", "valueOf"]) {
      const removed = await cli(user.token, ["rm", key]);
      expect(removed.code, key).toBe(1);
      expect(removed.stderr).toBe(`apolo-secret: Secret '${key}' not found\n`);
    }
    const after = storeSecret(user.name);
    expect(after.resourceVersion).toBe(before.resourceVersion);
    expect(JSON.stringify(after.data)).toBe(JSON.stringify(before.data));
  });

  it("removes __proto__ and constructor, after which a job using them is refused as missing", async () => {
    const user = newUser();
    expect((await cli(user.token, ["add", "__proto__", "proto-value"])).code).toBe(0);
    expect((await cli(user.token, ["add", "constructor", "ctor-value"])).code).toBe(0);
    expect(await cli(user.token, ["rm", "__proto__"])).toMatchObject({
      code: 0,
      stdout: "removed secret '__proto__'\n",
    });
    expect(storedValue(user.name, "__proto__")).toBeUndefined();
    expect(storedValue(user.name, "constructor")).toBe("ctor-value");
    expect((await cli(user.token, ["ls"])).stdout).toBe("KEY\nconstructor\n");
    expect((await cli(user.token, ["rm", "constructor"])).code).toBe(0);
    expect(Object.keys(storeSecret(user.name).data)).toEqual([]);

    const job = () => jobPod({ owner: user.name, env: { C: "secret:constructor" } });
    // The webhook's cache learns of the removal from its watch: wait until it refuses.
    await waitFor(
      "the webhook to see constructor removed",
      () =>
        createPod("platform", namespace, job(), { dryRun: true }).then(
          () => undefined,
          () => true,
        ),
      30_000,
    );
    const answer = await refusal(createPod("platform", namespace, job()));
    expect(answer.code).toBe(422);
    expect(answer.message).toContain("Missing secrets: 'constructor'");
    const both = await refusal(
      createPod(
        "platform",
        namespace,
        jobPod({ owner: user.name, env: { P: "secret:__proto__", T: "secret:toString" } }),
      ),
    );
    expect(both.message).toContain("Missing secrets: '__proto__', 'toString'");
  });
});
