// One identity rule for the secrets API and the webhook, through the real API server: a service
// account of the users' namespace (apolo-users:alice-…) adds a secret through the API, then
// creates her own job pod with the same token, and the webhook resolves it, both processes
// started with the same --username-prefix; bob's service account is refused for alice's pod.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../cluster/control-plane.js";
import { type Managed, stopProcess } from "../cluster/processes.js";
import { freshUser, type SecretsApi, startSecretsApi, USERNAME_PREFIX } from "../cluster/secrets-api.js";
import { launchWebhook, registerForLabel, waitUntilCalled } from "../cluster/webhook.js";
import { api, e2e, freshNamespace, jobPod, readPod, refusal, storeName } from "./support.js";

const local = e2e().local;
const run = promisify(execFile);
const CLI = join(import.meta.dirname, "../../bin/apolo-secret");
const suffix = () => randomBytes(3).toString("hex");

function plane() {
  if (!local) throw new Error("needs the local control plane");
  return local.plane;
}

/** The fields of the first JSON log line with this message that the process wrote. */
function logLine(managed: Managed, msg: string): Record<string, unknown> | undefined {
  const text = readFileSync(managed.logFile).subarray(managed.logStart).toString("utf8");
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    const fields = JSON.parse(line) as Record<string, unknown>;
    if (fields.msg === msg) return fields;
  }
  return undefined;
}

/** The API server as the holder of this bearer token sees it (a platform user's own kubectl). */
function coreApiWithToken(token: string): CoreV1Api {
  const admin = new KubeConfig();
  admin.loadFromFile(e2e().adminKubeconfig);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error("the admin kubeconfig has no current cluster");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: "token", token }],
    contexts: [{ name: "token", cluster: cluster.name, user: "token" }],
    currentContext: "token",
  });
  return kc.makeApiClient(CoreV1Api);
}

/** Lets every service account of the users' namespace create pods in `namespace`, as a platform would. */
function letUsersCreatePods(namespace: string): void {
  const rbac = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: job-submitters, namespace: ${namespace}}
rules:
- {apiGroups: [""], resources: [pods], verbs: [create, get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: job-submitters, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: job-submitters}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:serviceaccounts:apolo-users"}
`;
  kubectl(plane(), "admin", ["apply", "-f", "-"], rbac);
}

describe.runIf(local !== undefined)("one identity rule for the secrets API and the webhook", () => {
  const webhookName = `webhook-identity-${suffix()}`;
  const label = `e2e-identity-${suffix()}`;
  const release = `e2e-identity-${suffix()}`;
  let namespace: string;
  let secretsApi: SecretsApi;
  let webhookProcess: Managed;

  beforeAll(async () => {
    // Not served by the suite's own webhook (which has no prefix): only by this one.
    namespace = await freshNamespace("e2e-identity", { served: false });
    await api("admin").patchNamespace({
      name: namespace,
      body: [{ op: "add", path: `/metadata/labels/${label}`, value: "enabled" }],
    });
    letUsersCreatePods(namespace);
    // The API writes the stores in the namespace the jobs run in, with --username-prefix=USERNAME_PREFIX.
    secretsApi = await startSecretsApi(plane(), namespace);
    const { webhook, managed } = await launchWebhook(plane(), webhookName, {
      adjust: (w) => {
        w.args = w.args.concat(`--username-prefix=${USERNAME_PREFIX}`);
      },
    });
    registerForLabel(plane(), webhook.url, label, release);
    webhookProcess = managed;
    await waitUntilCalled(plane(), namespace);
  });

  afterAll(async () => {
    if (!local) return;
    kubectl(plane(), "admin", ["delete", "mutatingwebhookconfiguration", release, "--ignore-not-found"]);
    await stopProcess(plane().pidFile, webhookName);
    await stopProcess(plane().pidFile, "secrets-api");
  });

  async function addSecret(token: string, key: string, value: string) {
    return run(CLI, ["add", key, value], {
      env: {
        ...process.env,
        APOLO_SECRETS_SERVER: secretsApi.url,
        APOLO_SECRETS_TOKEN: token,
        APOLO_SECRETS_CA_FILE: secretsApi.caFile,
        KUBECONFIG: "/nonexistent",
      },
    });
  }

  it("starts the webhook and the API with the same rule, as each says when it starts serving", () => {
    expect(logLine(webhookProcess, "webhook serving")?.usernamePrefixes).toBe(USERNAME_PREFIX);
    expect(logLine(secretsApi.managed, "secrets API serving")?.usernamePrefixes).toBe(USERNAME_PREFIX);
  });

  it("lets alice's service account add a secret through the API and create her own job pod, which the webhook resolves", async () => {
    const alice = freshUser(plane(), "alice");
    await addSecret(alice.token, "db_password", "s3cr3t-identity");
    // The API mapped system:serviceaccount:apolo-users:alice-… to the owner alice-….
    const store = await api("admin").readNamespacedSecret({ name: storeName(alice.name), namespace });
    expect(Object.keys(store.data ?? {})).toEqual(["db_password"]);

    const created = await coreApiWithToken(alice.token).createNamespacedPod({
      namespace,
      body: jobPod({
        owner: alice.name,
        env: { DB: "secret:db_password" },
        files: ["secret:db_password:/var/secrets/db"],
      }),
    });
    const stored = await readPod(namespace, created.metadata?.name as string);
    expect(stored.spec?.containers[0]?.env?.[0]).toEqual({
      name: "DB",
      valueFrom: { secretKeyRef: { name: storeName(alice.name), key: "db_password" } },
    });
    expect(stored.spec?.volumes?.find((v) => v.secret?.secretName === storeName(alice.name))).toBeDefined();
    expect(JSON.stringify(stored)).not.toContain("s3cr3t-identity");
  });

  it("refuses bob's service account for alice's pod as a forged owner, and reads bob's own pod as his", async () => {
    const alice = freshUser(plane(), "alice");
    const bob = freshUser(plane(), "bob");
    await addSecret(alice.token, "db_password", "s3cr3t-identity");
    const asBob = coreApiWithToken(bob.token);

    const forged = await refusal(
      asBob.createNamespacedPod({
        namespace,
        body: jobPod({ owner: alice.name, env: { DB: "secret:db_password" } }),
      }),
    );
    expect(forged.code).toBe(403);
    expect(forged.message).toContain(
      `'${USERNAME_PREFIX}${bob.name}' may not submit a job for owner '${alice.name}': only the owner or a trusted submitter may create pods labelled for it`,
    );

    // Bob is his own owner: his pod gets past the submitter check to his own (empty) store.
    const own = await refusal(
      asBob.createNamespacedPod({
        namespace,
        body: jobPod({ owner: bob.name, env: { DB: "secret:db_password" } }),
      }),
    );
    expect(own).toMatchObject({ code: 422 });
    expect(own.message).toContain("Missing secrets: 'db_password'");
  });
});
