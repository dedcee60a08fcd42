// Project secrets, authorized by the cluster's RBAC, against the real API server: the secrets API
// in the project scope (--scope project) asks a SubjectAccessReview for every request, so a member
// granted with an ordinary Role (verbs get and update on projects.secrets.apolo.us named
// {org}--{project}) adds, lists and removes; anyone else gets 403 and learns nothing; values never
// come back; and a project job pod (webhook --scope project) resolves the project's secret.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { promisify } from "node:util";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../cluster/control-plane.js";
import { stopProcess, waitFor } from "../cluster/processes.js";
import { freshUser, type SecretsApi, startSecretsApi, USERS_NAMESPACE } from "../cluster/secrets-api.js";
import { launchWebhook, registerForLabel, waitUntilCalled } from "../cluster/webhook.js";
import { api, createPod, e2e, freshNamespace, jobPod, readPod, refusal } from "./support.js";

const local = e2e().local;
const run = promisify(execFile);
const CLI = join(import.meta.dirname, "../../bin/apolo-secret");
const suffix = () => randomBytes(3).toString("hex");

const ORG = "acme";
const PROJECT = "vision";
const STORE = `project--${ORG}--${PROJECT}--secrets`;
const QUERY = `?org_name=${ORG}&project_name=${PROJECT}`;

interface User {
  name: string;
  token: string;
}

let namespace: string;
let secretsApi: SecretsApi;
let member: User;
let outsider: User;
const webhookName = `webhook-projects-${suffix()}`;
const release = `e2e-projects-${suffix()}`;
const servedLabel = `e2e-projects-${suffix()}`;

function plane() {
  if (!local) throw new Error("needs the local control plane");
  return local.plane;
}

/** The README's example: a Role granting one project's secrets, bound to one user. */
function projectRole(user: string, binding: string): string {
  return `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: project-${ORG}-${PROJECT}-secrets, namespace: ${namespace}}
rules:
- apiGroups: [secrets.apolo.us]
  resources: [projects]
  resourceNames: [${ORG}--${PROJECT}]
  verbs: [get, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${binding}, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: project-${ORG}-${PROJECT}-secrets}
subjects:
- {kind: ServiceAccount, name: ${user}, namespace: ${USERS_NAMESPACE}}
`;
}

async function cli(who: User, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(CLI, args, {
      env: {
        ...process.env,
        APOLO_SECRETS_SERVER: secretsApi.url,
        APOLO_SECRETS_TOKEN: who.token,
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

/** One request to the API as the platform's client sends it; the answer's status, Allow and body. */
function call(
  method: string,
  path: string,
  who: User,
  body?: unknown,
): Promise<{ status: number; allow: string | undefined; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, secretsApi.url),
      {
        method,
        ca: readFileSync(secretsApi.caFile),
        headers: {
          authorization: `Bearer ${who.token}`,
          ...(payload ? { "content-type": "application/json" } : {}),
        },
      },
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
    req.end(payload);
  });
}

async function store(): Promise<{ resourceVersion: string; data: Record<string, string> }> {
  const secret = await api("admin").readNamespacedSecret({ name: STORE, namespace });
  return { resourceVersion: secret.metadata?.resourceVersion ?? "", data: secret.data ?? {} };
}

/** A job pod the platform submits for a project: the owner comes from the org and project labels. */
function projectJob(env: Record<string, string>): V1Pod {
  const pod = jobPod({ env });
  pod.metadata = {
    ...pod.metadata,
    labels: {
      ...pod.metadata?.labels,
      "platform.apolo.us/org": ORG,
      "platform.apolo.us/project": PROJECT,
    },
  };
  return pod;
}

describe.runIf(local !== undefined)("project secrets, authorized by the cluster's RBAC", () => {
  beforeAll(async () => {
    namespace = await freshNamespace("e2e-projects", { served: false });
    await api("admin").patchNamespace({
      name: namespace,
      body: [{ op: "add", path: `/metadata/labels/${servedLabel}`, value: "enabled" }],
    });
    secretsApi = await startSecretsApi(plane(), namespace, {
      ...process.env,
      APOLO_SECRETS_WEBHOOK_API_SCOPE: "project",
    });
    member = freshUser(plane(), "member");
    outsider = freshUser(plane(), "outsider");
    kubectl(plane(), "admin", ["apply", "-f", "-"], projectRole(member.name, `members-${member.name}`));

    const { webhook } = await launchWebhook(plane(), webhookName, {
      adjust: (w) => {
        w.args = w.args.concat("--scope=project", `--namespaces=${namespace}`);
      },
    });
    registerForLabel(plane(), webhook.url, servedLabel, release);
    await waitUntilCalled(plane(), namespace);
    // RBAC reaches the authorizer through its informers: wait until the member is allowed.
    await waitFor(
      "the member's RoleBinding to take effect",
      async () => ((await call("GET", `/api/v1/secrets${QUERY}`, member)).status === 200 ? true : undefined),
      30_000,
    );
  });

  afterAll(async () => {
    if (!local) return;
    kubectl(plane(), "admin", ["delete", "mutatingwebhookconfiguration", release, "--ignore-not-found"]);
    await stopProcess(plane().pidFile, webhookName);
    await stopProcess(plane().pidFile, "secrets-api");
  });

  it("lets a member add and remove the project's secrets and list their names only, in the platform's wire format", async () => {
    const added = await call("POST", "/api/v1/secrets", member, {
      key: "hf_token",
      value: Buffer.from("hf-s3cr3t").toString("base64"),
      org_name: ORG,
      project_name: PROJECT,
    });
    expect(added.status, added.text).toBe(201);
    expect(JSON.parse(added.text)).toEqual({
      key: "hf_token",
      org_name: ORG,
      project_name: PROJECT,
      owner: `${ORG}/${PROJECT}`,
    });
    const withCli = await cli(member, [
      "add",
      "db_password",
      "db-s3cr3t",
      "--org",
      ORG,
      "--project",
      PROJECT,
    ]);
    expect(withCli, withCli.stderr).toMatchObject({
      code: 0,
      stdout: "added secret 'db_password' (9 bytes)\n",
    });
    const stored = await store();
    expect(Buffer.from(stored.data.hf_token as string, "base64").toString()).toBe("hf-s3cr3t");
    expect(Object.keys(stored.data).sort()).toEqual(["db_password", "hf_token"]);

    const listed = await call("GET", `/api/v1/secrets${QUERY}`, member);
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.text)).toEqual(
      ["db_password", "hf_token"].map((key) => ({
        key,
        org_name: ORG,
        project_name: PROJECT,
        owner: `${ORG}/${PROJECT}`,
      })),
    );
    expect(listed.text).not.toContain("s3cr3t");
    expect(listed.text).not.toContain(Buffer.from("hf-s3cr3t").toString("base64"));
    expect((await cli(member, ["ls", "--org", ORG, "--project", PROJECT])).stdout).toBe(
      "KEY\ndb_password\nhf_token\n",
    );

    const removed = await cli(member, ["rm", "db_password", `--org=${ORG}`, `--project=${PROJECT}`]);
    expect(removed).toMatchObject({ code: 0, stdout: "removed secret 'db_password'\n" });
    expect(Object.keys((await store()).data)).toEqual(["hf_token"]);
    const again = await call("DELETE", `/api/v1/secrets/db_password${QUERY}`, member);
    expect(again).toMatchObject({
      status: 404,
      text: JSON.stringify({ error: "Secret 'db_password' not found" }),
    });
  });

  it("refuses a non-member with 403 naming the missing permission, and tells it nothing about the store", async () => {
    await call("POST", "/api/v1/secrets", member, {
      key: "only_members",
      value: Buffer.from("members-s3cr3t").toString("base64"),
      org_name: ORG,
      project_name: PROJECT,
    });
    const before = await store();
    const permission = (verb: string) =>
      `that needs '${verb}' on projects.secrets.apolo.us '${ORG}--${PROJECT}' in namespace '${namespace}'`;
    const answers = [
      await call("GET", `/api/v1/secrets${QUERY}`, outsider),
      await call("POST", "/api/v1/secrets", outsider, {
        key: "only_members",
        value: Buffer.from("overwritten").toString("base64"),
        org_name: ORG,
        project_name: PROJECT,
      }),
      await call("DELETE", `/api/v1/secrets/only_members${QUERY}`, outsider),
      // A key that does not exist is refused the same way: no answer tells which keys exist.
      await call("DELETE", `/api/v1/secrets/no_such_key${QUERY}`, outsider),
    ];
    expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 403]);
    const outsiderName = `system:serviceaccount:${USERS_NAMESPACE}:${outsider.name}`;
    expect(JSON.parse(answers[0]?.text ?? "{}")).toEqual({
      error: `'${outsiderName}' may not list the secrets of project '${ORG}/${PROJECT}': ${permission("get")}; ask the cluster operator to grant it (a Role and RoleBinding)`,
    });
    expect(answers[1]?.text).toContain(permission("update"));
    expect(answers[2]?.text).toBe(answers[3]?.text);
    for (const answer of answers) {
      expect(answer.text).not.toContain("s3cr3t");
      expect(answer.text).not.toContain("hf_token");
    }
    const viaCli = await cli(outsider, ["ls", "--org", ORG, "--project", PROJECT]);
    expect(viaCli.code).toBe(1);
    expect(viaCli.stderr).toContain(`may not list the secrets of project '${ORG}/${PROJECT}'`);
    const after = await store();
    expect(after.resourceVersion).toBe(before.resourceVersion);

    // The member's Role names one project: another project of the same org is refused too.
    const elsewhere = await call("GET", `/api/v1/secrets?org_name=${ORG}&project_name=nlp`, member);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.text).toContain(`may not list the secrets of project '${ORG}/nlp'`);
  });

  it("never returns a value: GET of a key is 405 with Allow: DELETE, for members too", async () => {
    for (const who of [member, outsider]) {
      const read = await call("GET", `/api/v1/secrets/hf_token${QUERY}`, who);
      expect(read.status).toBe(405);
      expect(read.allow).toBe("DELETE");
      expect(JSON.parse(read.text).error).toContain("secret values are never read back");
      expect(read.text).not.toContain(Buffer.from("hf-s3cr3t").toString("base64"));
    }
  });

  it("needs the project named: without org_name and project_name the answer is 400", async () => {
    const answer = await call("GET", "/api/v1/secrets", member);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text).error).toContain("org_name and project_name are both required");
  });

  it("resolves the project's secret in a project job pod (webhook --scope project)", async () => {
    await call("POST", "/api/v1/secrets", member, {
      key: "wandb_key",
      value: Buffer.from("w").toString("base64"),
      org_name: ORG,
      project_name: PROJECT,
    });
    const created = await createPod("platform", namespace, projectJob({ WANDB: "secret:wandb_key" }));
    const pod = await readPod(namespace, created.metadata?.name as string);
    expect(pod.spec?.containers[0]?.env?.[0]).toEqual({
      name: "WANDB",
      valueFrom: { secretKeyRef: { name: STORE, key: "wandb_key" } },
    });
    const missing = await refusal(createPod("platform", namespace, projectJob({ X: "secret:never_added" })));
    expect(missing.code).toBe(422);
    expect(missing.message).toContain("Missing secrets: 'never_added'");
  });

  it("takes access away with the RoleBinding: once it is removed, requests are refused", async () => {
    const leaving = freshUser(plane(), "leaving");
    const binding = `members-${leaving.name}`;
    kubectl(plane(), "admin", ["apply", "-f", "-"], projectRole(leaving.name, binding));
    await waitFor(
      "the RoleBinding to take effect",
      async () => ((await call("GET", `/api/v1/secrets${QUERY}`, leaving)).status === 200 ? true : undefined),
      30_000,
    );
    kubectl(plane(), "admin", ["delete", "rolebinding", binding, "-n", namespace]);
    // The API keeps no access answer: the refusal comes as soon as the authorizer has seen the deletion.
    await waitFor(
      "the removed RoleBinding to refuse",
      async () => ((await call("GET", `/api/v1/secrets${QUERY}`, leaving)).status === 403 ? true : undefined),
      30_000,
    );
  });
});
