// The platform's own `apolo` CLI (apolo-cli from PyPI) against our secrets API, as alice and bob
// with the platform's tokens: ES256 JWTs of the test identity provider that kube-apiserver trusts
// (--authentication-config), logged in through a stub of the platform's /config. Every store is
// checked through the API server; values are compared in memory, never printed.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiException } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApoloResult, apoloCommand, apoloUserEnv, runApolo } from "../cluster/apolo-cli.js";
import { platformToken, strangerKeyPem } from "../cluster/identity-provider.js";
import { type PlatformConfigStub, startPlatformConfig } from "../cluster/platform-config.js";
import { stopProcess } from "../cluster/processes.js";
import { type SecretsApi, startSecretsApi, userToken } from "../cluster/secrets-api.js";
import { api, e2e, freshNamespace, storeName } from "./support.js";

const local = e2e().local;
const API_PROCESS = "secrets-api-apolo-cli";
// Each apolo call starts Python (1 to 3 s on a busy two-core machine): a test of several calls
// needs more than the suite's default.
const CLI_TEST_TIMEOUT_MS = 180_000;

let namespace: string;
let secretsApi: SecretsApi;
let platform: PlatformConfigStub;
let work: string;
const envs = new Map<string, NodeJS.ProcessEnv>();
let cliMissing: Error | undefined;

/** Every test fails, not skips, when the CLI is not installed: it is part of the suite. */
function requireCli(): void {
  if (cliMissing) throw cliMissing;
}

/** `apolo ARGS` as `user`, logged in (beforeAll) with the user's platform token. */
function apolo(user: "alice" | "bob", args: string[]): Promise<ApoloResult> {
  requireCli();
  const env = envs.get(user);
  if (!env) throw new Error(`${user} is not logged in`);
  return runApolo(env, args);
}

/** The data of an owner's store as the API server keeps it: key → bytes; empty when there is none. */
async function storeData(owner: string): Promise<Map<string, Buffer>> {
  try {
    const secret = await api("admin").readNamespacedSecret({ name: storeName(owner), namespace });
    return new Map(
      Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, "base64")]),
    );
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return new Map();
    throw error;
  }
}

/** Logs `user` in, in a home of its own, with `token`; returns its env and the login's result. */
async function login(user: string, token: string): Promise<{ env: NodeJS.ProcessEnv; result: ApoloResult }> {
  if (!local) throw new Error("needs the local control plane");
  requireCli();
  const env = apoloUserEnv(work, user, local.plane.ca.certFile);
  const result = await runApolo(env, ["config", "login-with-token", token, platform.url]);
  return { env, result };
}

describe.runIf(local !== undefined)("the platform's apolo CLI against the secrets API", () => {
  beforeAll(async () => {
    if (!local) return;
    try {
      apoloCommand();
    } catch (error) {
      cliMissing = error as Error;
      return;
    }
    namespace = await freshNamespace("apolo-cli");
    secretsApi = await startSecretsApi(local.plane, namespace, undefined, {
      usernamePrefix: "",
      name: API_PROCESS,
    });
    platform = await startPlatformConfig(local.plane.ca, `${secretsApi.url}/api/v1/secrets`);
    work = mkdtempSync(join(tmpdir(), "apolo-cli-e2e-"));
    for (const user of ["alice", "bob"] as const) {
      const { env, result } = await login(user, platformToken(local.plane.identityProvider, user));
      expect(result, `${user}'s login: ${result.stderr}`).toMatchObject({ code: 0 });
      envs.set(user, env);
    }
  });

  afterAll(async () => {
    if (local) await stopProcess(local.plane.pidFile, API_PROCESS);
    await platform?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("logs in with a platform token as the user its claim names, and not with a service-account token", {
    timeout: CLI_TEST_TIMEOUT_MS,
  }, async () => {
    if (!local) return;
    const carol = await login("carol", platformToken(local.plane.identityProvider, "carol"));
    expect(carol.result.code, carol.result.stderr).toBe(0);
    expect(carol.result.stdout).toContain(`Logged into ${platform.url} as carol`);

    // What the platform's tokens are for: the CLI reads its user from the claims.
    const serviceAccount = await login("dave", userToken(local.plane, "alice"));
    expect(serviceAccount.result.code).not.toBe(0);
    expect(serviceAccount.result.stderr).toContain("JWT Claims structure is not correct");
  });

  it("adds a value and a binary file, lists names only, removes, and refuses to read a value back", {
    timeout: CLI_TEST_TIMEOUT_MS,
  }, async () => {
    const value = `v-${randomBytes(12).toString("hex")}`;
    // Every byte value, a NUL and invalid UTF-8 included: the file must arrive as it is.
    const fileBytes = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0x0a, 0x0d, 0x80]), randomBytes(256)]);
    const file = join(work, "model-key.bin");
    writeFileSync(file, fileBytes);

    const added = await apolo("alice", ["secret", "add", "db_password", value]);
    expect(added.code, added.stderr).toBe(0);
    const addedFile = await apolo("alice", ["secret", "add", "gcp-key", `@${file}`]);
    expect(addedFile.code, addedFile.stderr).toBe(0);

    const store = await storeData("alice");
    expect([...store.keys()].sort()).toEqual(["db_password", "gcp-key"]);
    expect(store.get("db_password")?.equals(Buffer.from(value)), "db_password's stored value").toBe(true);
    expect(store.get("gcp-key")?.equals(fileBytes), "gcp-key's stored bytes").toBe(true);

    const listed = await apolo("alice", ["secret", "ls"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("db_password");
    expect(listed.stdout).toContain("gcp-key");
    expect(listed.stdout + listed.stderr).not.toContain(value);

    const read = await apolo("alice", ["secret", "get", "db_password"]);
    expect(read.code).not.toBe(0);
    expect(read.stderr).toContain("secret values are never read back");
    expect(read.stdout + read.stderr).not.toContain(value);

    const removed = await apolo("alice", ["secret", "rm", "db_password"]);
    expect(removed.code, removed.stderr).toBe(0);
    expect([...(await storeData("alice")).keys()]).toEqual(["gcp-key"]);
    const after = await apolo("alice", ["secret", "ls"]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).not.toContain("db_password");
    expect(after.stdout).toContain("gcp-key");

    expect((await apolo("alice", ["secret", "rm", "gcp-key"])).code).toBe(0);
    expect((await storeData("alice")).size).toBe(0);
  });

  it("keeps bob out of alice's store: he neither lists nor removes her keys, and his own go to his store", {
    timeout: CLI_TEST_TIMEOUT_MS,
  }, async () => {
    const alicesValue = `alice-${randomBytes(12).toString("hex")}`;
    expect((await apolo("alice", ["secret", "add", "wandb_key", alicesValue])).code).toBe(0);
    try {
      const listed = await apolo("bob", ["secret", "ls"]);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).not.toContain("wandb_key");

      const removed = await apolo("bob", ["secret", "rm", "wandb_key"]);
      expect(removed.code).not.toBe(0);
      expect(removed.stderr).toContain("wandb_key");

      const bobsValue = `bob-${randomBytes(12).toString("hex")}`;
      const added = await apolo("bob", ["secret", "add", "wandb_key", bobsValue]);
      expect(added.code, added.stderr).toBe(0);
      const bobs = await storeData("bob");
      expect([...bobs.keys()]).toEqual(["wandb_key"]);
      expect(bobs.get("wandb_key")?.equals(Buffer.from(bobsValue)), "bob's value in bob's store").toBe(true);
      const alices = await storeData("alice");
      expect([...alices.keys()]).toEqual(["wandb_key"]);
      expect(alices.get("wandb_key")?.equals(Buffer.from(alicesValue)), "alice's value unchanged").toBe(true);
      expect((await apolo("bob", ["secret", "rm", "wandb_key"])).code).toBe(0);
    } finally {
      await apolo("alice", ["secret", "rm", "wandb_key"]);
    }
  });

  it("refuses a token with the platform's claims that the identity provider did not sign", {
    timeout: CLI_TEST_TIMEOUT_MS,
  }, async () => {
    if (!local) return;
    const forged = platformToken(local.plane.identityProvider, "alice", { signingKeyPem: strangerKeyPem() });
    // The stub takes any bearer token; the secrets API asks the API server, which checks the signature.
    const mallory = await login("mallory", forged);
    expect(mallory.result.code, mallory.result.stderr).toBe(0);
    const listed = await runApolo(mallory.env, ["secret", "ls"]);
    expect(listed.code).not.toBe(0);
    expect(listed.stderr).toContain("the token was not accepted by the cluster");
    const added = await runApolo(mallory.env, ["secret", "add", "planted", "x"]);
    expect(added.code).not.toBe(0);
    expect((await storeData("alice")).has("planted")).toBe(false);
  });
});
