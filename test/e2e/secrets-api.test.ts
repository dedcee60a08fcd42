// Users manage their own secrets through the API and the apolo-secret command, against the real
// API server: add (a value and a file), list names, use them in a job; nobody else can see,
// remove or use them; removed keys are refused; parallel adds lose nothing; bad input is refused.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopProcess, waitFor } from "../cluster/processes.js";
import { API_NAMESPACE, freshUser, type SecretsApi, startSecretsApi } from "../cluster/secrets-api.js";
import { api, createPod, e2e, freshNamespace, jobPod, readPod, refusal, storeName } from "./support.js";

const local = e2e().local;
const run = promisify(execFile);
const CLI = join(import.meta.dirname, "../../bin/apolo-secret");

let secretsApi: SecretsApi;
let work: string;

interface User {
  name: string;
  token: string;
}
const NOBODY: User = { name: "nobody", token: "not-a-token" };

/** A platform user of this test only (its own service account, so its own store). */
function newUser(prefix: string): User {
  if (!local) throw new Error("needs the local control plane");
  return freshUser(local.plane, prefix);
}

async function cli(who: User, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const token = who.token;
  try {
    const { stdout, stderr } = await run(CLI, args, {
      env: {
        ...process.env,
        APOLO_SECRETS_SERVER: secretsApi.url,
        APOLO_SECRETS_TOKEN: token,
        APOLO_SECRETS_CA_FILE: secretsApi.caFile,
        KUBECONFIG: "/nonexistent",
      },
      maxBuffer: 8 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function rawCall(
  method: string,
  path: string,
  token: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  const { request } = await import("node:https");
  const { readFileSync } = await import("node:fs");
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, secretsApi.url),
      {
        method,
        ca: readFileSync(secretsApi.caFile),
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function storeData(owner: string): Promise<Record<string, string>> {
  const secret = await api("admin").readNamespacedSecret({
    name: storeName(owner),
    namespace: API_NAMESPACE,
  });
  return secret.data ?? {};
}

describe.runIf(local !== undefined)("the secrets API and apolo-secret", () => {
  beforeAll(async () => {
    if (!local) return;
    await freshNamespace("unused", { name: API_NAMESPACE });
    secretsApi = await startSecretsApi(local.plane);
    work = mkdtempSync(join(tmpdir(), "apolo-secret-cli-"));
  });

  afterAll(async () => {
    if (local) await stopProcess(local.plane.pidFile, "secrets-api");
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** alice's usual state: a value and a binary file (returned), as the first test makes them. */
  async function withSecrets(alice: User): Promise<Buffer> {
    const added = await cli(alice, ["add", "db_password", "s3cr3t-value"]);
    expect(added, added.stderr).toMatchObject({ code: 0 });
    expect(added.stdout).toBe("added secret 'db_password' (12 bytes)\n");
    const bytes = Buffer.concat([Buffer.from([0, 255, 10, 13, 0]), randomBytes(4096)]);
    const file = join(work, `${alice.name}-key.bin`);
    writeFileSync(file, bytes);
    expect((await cli(alice, ["add", "gcp-key", `@${file}`])).code).toBe(0);
    return bytes;
  }

  it("lets alice add a value and a binary file, list names only, and use them in a job", async () => {
    const alice = newUser("alice");
    const bytes = await withSecrets(alice);

    const listed = await cli(alice, ["ls"]);
    expect(listed.stdout).toBe("KEY\ndb_password\ngcp-key\n");
    expect(listed.stdout + listed.stderr).not.toContain("s3cr3t");

    const data = await storeData(alice.name);
    expect(Buffer.from(data["gcp-key"] as string, "base64").equals(bytes)).toBe(true);
    expect(Buffer.from(data.db_password as string, "base64").toString()).toBe("s3cr3t-value");

    const pod = await createPod(
      "platform",
      API_NAMESPACE,
      jobPod({
        owner: alice.name,
        env: { DB: "secret:db_password" },
        files: ["secret:gcp-key:/var/secrets/key.bin"],
      }),
    );
    const stored = await readPod(API_NAMESPACE, pod.metadata?.name as string);
    expect(stored.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef).toEqual({
      name: storeName(alice.name),
      key: "db_password",
    });
    expect(
      stored.spec?.containers[0]?.volumeMounts?.find((m) => m.mountPath === "/var/secrets/key.bin")?.subPath,
    ).toBe("gcp-key");
  });

  it("keeps bob out of alice's secrets: he cannot see, remove, read or use them", async () => {
    const alice = newUser("alice");
    const bob = newUser("bob");
    await withSecrets(alice);
    expect((await cli(bob, ["ls"])).stdout).toBe("KEY\n");
    const removed = await cli(bob, ["rm", "db_password"]);
    expect(removed.code).toBe(1);
    expect(removed.stderr).toBe("apolo-secret: Secret 'db_password' not found\n");
    expect(Object.keys(await storeData(alice.name)).sort()).toEqual(["db_password", "gcp-key"]);
    for (const [method, path] of [
      ["GET", "/api/v1/secrets/db_password"],
      ["GET", "/api/v1/secrets"],
      ["GET", `/api/v1/secrets/${storeName(alice.name)}`],
    ] as const) {
      const answer = await rawCall(method, path, bob.token);
      expect(answer.text).not.toContain("s3cr3t");
      expect(answer.text).not.toContain(Buffer.from("s3cr3t-value").toString("base64"));
    }
    expect((await rawCall("GET", "/api/v1/secrets/db_password", alice.token)).status).toBe(405);
    const used = await refusal(
      createPod(
        "platform",
        API_NAMESPACE,
        jobPod({ owner: bob.name, env: { DB: `secret:/${alice.name}/db_password` } }),
      ),
    );
    expect(used.code).toBe(403);
    const direct = await refusal(
      createPod("platform", API_NAMESPACE, jobPod({ owner: bob.name, env: { DB: "secret:db_password" } })),
    );
    expect(direct.message).toContain("Missing secrets: 'db_password'");
  });

  it("refuses a job that references a removed secret", async () => {
    const alice = newUser("alice");
    await withSecrets(alice);
    expect((await cli(alice, ["rm", "db_password"])).stdout).toBe("removed secret 'db_password'\n");
    expect((await cli(alice, ["rm", "db_password"])).code).toBe(1);
    // The webhook's cache may still hold the key for a moment; the refusal comes once it does not.
    const job = () => jobPod({ owner: alice.name, env: { DB: "secret:db_password" } });
    await waitFor(
      "the webhook to see db_password removed",
      () =>
        createPod("platform", API_NAMESPACE, job(), { dryRun: true }).then(
          () => undefined,
          () => true,
        ),
      30_000,
    );
    const answer = await refusal(createPod("platform", API_NAMESPACE, job()));
    expect(answer.code).toBe(422);
    expect(answer.message).toContain("Missing secrets: 'db_password'");
  });

  it("loses no key when alice adds 50 secrets in parallel", async () => {
    const alice = newUser("alice");
    const keys = Array.from({ length: 50 }, (_, i) => `parallel_${i}`);
    const answers = await Promise.all(
      keys.map((key) =>
        rawCall(
          "POST",
          "/api/v1/secrets",
          alice.token,
          JSON.stringify({ key, value: Buffer.from(key).toString("base64") }),
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(keys.map(() => 201));
    const data = await storeData(alice.name);
    for (const key of keys) expect(Buffer.from(data[key] as string, "base64").toString()).toBe(key);
  });

  it("refuses bad tokens, bad names, bad values and oversized values with clear errors", async () => {
    const alice = newUser("alice");
    const bob = newUser("bob");
    await withSecrets(alice);
    const noToken = await cli(NOBODY, ["ls"]);
    expect(noToken.code).toBe(3);
    expect(noToken.stderr).toBe(
      "apolo-secret: the token was not accepted by the cluster: log in again (check your token)\n",
    );
    expect(await rawCall("GET", "/api/v1/secrets", "")).toMatchObject({ status: 401 });

    const badKey = await cli(alice, ["add", "../etc", "x"]);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('invalid secret name "../etc"');
    expect(
      await rawCall(
        "POST",
        "/api/v1/secrets",
        alice.token,
        JSON.stringify({ key: "k", value: "not base64!" }),
      ),
    ).toMatchObject({ status: 400 });
    expect(await rawCall("POST", "/api/v1/secrets", alice.token, "{broken")).toMatchObject({ status: 400 });

    const big = join(work, "big.bin");
    writeFileSync(big, randomBytes(1024 * 1024 + 1));
    const tooBig = await cli(alice, ["add", "big", `@${big}`]);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toBe(
      "apolo-secret: the value of 'big' is larger than 1 MiB, the limit of a secret\n",
    );
    // A value of exactly 1 MiB fits an otherwise empty store; a store holds 1 MiB in all.
    const exact = join(work, "exact.bin");
    writeFileSync(exact, randomBytes(1024 * 1024));
    expect((await cli(bob, ["add", "exactly_1MiB", `@${exact}`])).code).toBe(0);
    const full = await cli(alice, ["add", "exactly_1MiB", `@${exact}`]);
    expect(full.code).toBe(1);
    expect(full.stderr).toBe(
      "apolo-secret: your secrets together would exceed 1 MiB, the most one store can hold: remove some first\n",
    );

    // The API's log names keys and owners, never values.
    const log = readFileSync(secretsApi.managed.logFile, "utf8");
    expect(log).toMatch(new RegExp(`"msg":"api request".*"owner":"${alice.name}".*"key":"db_password"`));
    expect(log).not.toContain("s3cr3t");
    expect(log).not.toContain(Buffer.from("s3cr3t-value").toString("base64"));

    const usage = await cli(alice, ["add", "only-key"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("usage: apolo-secret add KEY VALUE");
  });
});
