// apolo-secret takes the user's token from a kubeconfig, read by the same kubeconfig reader the
// servers use (src/kube/api-client.ts): a token, a token file, the first file of a KUBECONFIG
// list; against the real secrets API and API server. Exit codes: 0 done, 1 refused, 3 bad token.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../cluster/control-plane.js";
import { stopProcess } from "../cluster/processes.js";
import {
  API_NAMESPACE,
  type SecretsApi,
  startSecretsApi,
  USERS_NAMESPACE,
  userToken,
} from "../cluster/secrets-api.js";
import { e2e, freshNamespace } from "./support.js";

const local = e2e().local;
const CLI = join(import.meta.dirname, "../../bin/apolo-secret");

let secretsApi: SecretsApi;
let work: string;

/** apolo-secret with only a kubeconfig for credentials: no APOLO_SECRETS_TOKEN, no --token. */
function cli(args: string[], kubeconfig: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: work,
    APOLO_SECRETS_SERVER: secretsApi.url,
    APOLO_SECRETS_CA_FILE: secretsApi.caFile,
    KUBECONFIG: kubeconfig,
  };
  return new Promise((resolve) => {
    execFile(CLI, args, { env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

/** A token of a new platform user, so no other test's secrets are in its store. */
function freshUserToken(): string {
  if (!local) throw new Error("needs the local control plane");
  const user = `cli-${randomBytes(4).toString("hex")}`;
  kubectl(local.plane, "admin", ["create", "serviceaccount", user, "-n", USERS_NAMESPACE]);
  return userToken(local.plane, user);
}

function kubeconfig(name: string, user: string): string {
  const file = join(work, name);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
current-context: user
contexts: [{name: user, context: {cluster: plane, user: user}}]
clusters: [{name: plane, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: user, user: {${user}}}]
`,
  );
  return file;
}

describe.runIf(local !== undefined)("apolo-secret with a kubeconfig", () => {
  beforeAll(async () => {
    if (!local) return;
    await freshNamespace("unused", { name: API_NAMESPACE });
    secretsApi = await startSecretsApi(local.plane);
    work = mkdtempSync(join(tmpdir(), "apolo-secret-kubeconfig-"));
  });

  afterAll(async () => {
    if (local) await stopProcess(local.plane.pidFile, "secrets-api");
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("adds, lists and removes with the kubeconfig user's token, and exits 1 when refused", async () => {
    const file = kubeconfig("token.yaml", `token: ${freshUserToken()}`);
    const added = await cli(["add", "from_kubeconfig", "value-1"], file);
    expect(added, added.stderr).toEqual({
      code: 0,
      stdout: "added secret 'from_kubeconfig' (7 bytes)\n",
      stderr: "",
    });
    const listed = await cli(["ls"], `${file}:/nonexistent/second`);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toBe("KEY\nfrom_kubeconfig\n");
    expect((await cli(["rm", "from_kubeconfig"], file)).code).toBe(0);
    const again = await cli(["rm", "from_kubeconfig"], file);
    expect(again).toEqual({
      code: 1,
      stdout: "",
      stderr: "apolo-secret: Secret 'from_kubeconfig' not found\n",
    });
  });

  it("reads a token file named by the kubeconfig, relative to it", async () => {
    writeFileSync(join(work, "user.token"), `${freshUserToken()}\n`);
    const file = kubeconfig("token-file.yaml", "tokenFile: user.token");
    const added = await cli(["add", "via_token_file", "v"], file);
    expect(added.code, added.stderr).toBe(0);
    expect((await cli(["ls"], file)).stdout).toBe("KEY\nvia_token_file\n");
  });

  it("exits 3 when the kubeconfig's token is not accepted", async () => {
    const result = await cli(["ls"], kubeconfig("bad.yaml", "token: not-a-token"));
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("(check your token)");
  });
});
