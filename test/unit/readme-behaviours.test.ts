// Behaviours the README promises that no shared case covers, checked through the review handler
// (request body in, AdmissionReview out) as the server runs it: the 500 fail-closed answer, full
// references without a cluster name, the older project labels, a volume name already taken, and
// every field of the admission log line. Each test builds its own handler, index and log.

import { describe, expect, it } from "vitest";
import type { Policy } from "../../src/core/policy.js";
import { MemorySecretIndex, type SecretIndex } from "../../src/core/secret-index.js";
import { createLogger } from "../../src/lifecycle/logger.js";
import { createReviewHandler, type StoreRefresher } from "../../src/server/review-handler.js";
import { CASE_NAMESPACE, type JsonObject, jobPod, PLATFORM_USER } from "../cases/cases.js";
import { casePolicy, reviewFor } from "../support/replay.js";

interface Response {
  uid: string;
  allowed: boolean;
  patch?: string;
  status?: { code: number; message: string; reason: string };
}

function handlerWith(options: { index: SecretIndex; policy?: Policy; refresh?: StoreRefresher }) {
  const lines: string[] = [];
  const handle = createReviewHandler({
    policy: options.policy ?? casePolicy(),
    index: options.index,
    refresh: options.refresh,
    logger: createLogger("debug", (line) => lines.push(line)),
    metrics: undefined,
  });
  const send = async (review: JsonObject) => {
    const answer = await handle(review);
    expect(answer.status).toBe(200);
    return (answer.body as { response: Response }).response;
  };
  const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { send, lines, logged };
}

function indexWith(stores: Record<string, string[]>): MemorySecretIndex {
  const index = new MemorySecretIndex();
  for (const [store, keys] of Object.entries(stores)) index.set(CASE_NAMESPACE, store, keys);
  return index;
}

function patchOf(response: Response): Array<{ op: string; path: string; value: unknown }> {
  return response.patch ? JSON.parse(Buffer.from(response.patch, "base64").toString("utf8")) : [];
}

const PLATFORM = { username: PLATFORM_USER, groups: [] };
const INTERNAL_ERROR =
  "The secrets webhook failed to process this pod; nothing was changed. Retry, and report it to the cluster operator if it persists.";

describe("an internal error", () => {
  it("fails closed: a well-formed 500 refusal, and the error logged without the pod's values", async () => {
    const broken: SecretIndex = {
      keysOf: () => {
        throw new Error("index exploded");
      },
    };
    const { send, lines, logged } = handlerWith({ index: broken });
    const pod = jobPod({ env: { PLAIN: "hunter2-plaintext", A: "secret:k" } });
    const response = await send(reviewFor(pod, "uid-500", PLATFORM));
    expect(response).toEqual({
      uid: "uid-500",
      allowed: false,
      status: { code: 500, message: INTERNAL_ERROR, reason: "InternalError" },
      auditAnnotations: { decision: "error", reason: "internal-error" },
    });
    const entries = logged();
    expect(entries.find((e) => e.msg === "admission failed")).toMatchObject({
      level: "error",
      uid: "uid-500",
      error: "index exploded",
    });
    expect(entries.find((e) => e.msg === "admission")).toMatchObject({
      uid: "uid-500",
      decision: "error",
      reason: "internal-error",
      code: 500,
    });
    const all = lines.join("");
    expect(all).not.toContain("hunter2-plaintext");
    expect(all).not.toContain("secret:k");
    // No stack trace either: it would name files and lines, not the problem.
    expect(all).not.toContain("at ");
  });
});

describe("full references without a cluster name", () => {
  const noCluster: Policy = { ...casePolicy(), clusterName: undefined };
  const pod = jobPod({ env: { A: "secret://prod/alice/k" } });

  it("are refused with the documented message, though the key exists", async () => {
    const { send } = handlerWith({ index: indexWith({ "user--alice--secrets": ["k"] }), policy: noCluster });
    const response = await send(reviewFor(pod, "uid-nc", PLATFORM));
    expect(response.status).toEqual({
      code: 422,
      reason: "Invalid",
      message:
        "Secret reference 'secret://prod/alice/k' in env A of container 'job-0b5d6c1e' names cluster 'prod', but this webhook has no cluster name configured: write secret:KEY",
    });
  });

  it("are resolved once that cluster name is configured (the same pod)", async () => {
    const withCluster: Policy = { ...casePolicy(), clusterName: "prod" };
    const { send } = handlerWith({
      index: indexWith({ "user--alice--secrets": ["k"] }),
      policy: withCluster,
    });
    const response = await send(reviewFor(pod, "uid-c", PLATFORM));
    expect(response.allowed).toBe(true);
    expect(patchOf(response)).toEqual([
      {
        op: "replace",
        path: "/spec/containers/0/env/0",
        value: { name: "A", valueFrom: { secretKeyRef: { name: "user--alice--secrets", key: "k" } } },
      },
    ]);
  });
});

describe("the older project labels", () => {
  const legacy = {
    "platform.neuromation.io/org": "acme",
    "platform.neuromation.io/project": "ml",
  };

  it("platform.neuromation.io/org and /project name the project's store", async () => {
    const { send } = handlerWith({
      index: indexWith({ "project--acme--ml--secrets": ["k1"] }),
      policy: casePolicy("project"),
    });
    const pod = jobPod({ owner: undefined, labels: legacy, env: { A: "secret:k1", B: "secret:/ml/k1" } });
    const response = await send(reviewFor(pod, "uid-legacy", PLATFORM));
    expect(response.allowed).toBe(true);
    const ref = { secretKeyRef: { name: "project--acme--ml--secrets", key: "k1" } };
    expect(patchOf(response).map((op) => op.value)).toEqual([
      { name: "A", valueFrom: ref },
      { name: "B", valueFrom: ref },
    ]);
  });

  it("a legacy and a current label that disagree are refused, naming both", async () => {
    const { send } = handlerWith({
      index: indexWith({ "project--acme--ml--secrets": ["k1"] }),
      policy: casePolicy("project"),
    });
    const pod = jobPod({
      owner: undefined,
      labels: { ...legacy, "platform.apolo.us/org": "other", "platform.apolo.us/project": "ml" },
      env: { A: "secret:k1" },
    });
    const response = await send(reviewFor(pod, "uid-legacy-2", PLATFORM));
    expect(response.status).toEqual({
      code: 403,
      reason: "Forbidden",
      message:
        "Cannot tell this job's owner: the labels platform.apolo.us/org='other' and platform.neuromation.io/org='acme' name different owners; set one, or both to the same value",
    });
  });
});

describe("a volume named like the secret volume", () => {
  it("is refused when it is not the owner's store, with the documented message", async () => {
    const { send } = handlerWith({ index: indexWith({ "user--alice--secrets": ["k"] }) });
    const pod = jobPod({
      volumes: ["secret:k:/etc/k"],
      extraVolumes: [{ name: "apolo-secrets-alice", emptyDir: {} }],
    });
    const response = await send(reviewFor(pod, "uid-vol", PLATFORM));
    expect(response.status).toEqual({
      code: 422,
      reason: "Invalid",
      message:
        "The pod already has a volume named 'apolo-secrets-alice' that is not this job's secret store; that name is reserved for secret files, rename the volume",
    });
  });

  it("is reused when it already is the owner's store (a reinvocation adds only the mount)", async () => {
    const { send } = handlerWith({ index: indexWith({ "user--alice--secrets": ["k"] }) });
    const pod = jobPod({
      volumes: ["secret:k:/etc/k"],
      extraVolumes: [{ name: "apolo-secrets-alice", secret: { secretName: "user--alice--secrets" } }],
    });
    const response = await send(reviewFor(pod, "uid-vol-2", PLATFORM));
    expect(response.allowed).toBe(true);
    const ops = patchOf(response);
    expect(ops.some((op) => op.path.startsWith("/spec/volumes"))).toBe(false);
    expect(ops).toHaveLength(1);
    expect(ops[0]?.path).toBe("/spec/containers/0/volumeMounts");
  });
});

/** README "Logs": the fields of the admission line. */
const DOCUMENTED_FIELDS = [
  "uid",
  "namespace",
  "pod",
  "operation",
  "subResource",
  "user",
  "owner",
  "decision",
  "reason",
  "code",
  "liveLookup",
  "dryRun",
  "durationMs",
];

describe("the admission log line", () => {
  it("carries every documented field, and no value", async () => {
    const index = indexWith({ "user--alice--secrets": ["k"] });
    const asked: string[] = [];
    const { send, lines, logged } = handlerWith({
      index,
      refresh: async (namespace, store) => {
        asked.push(`${namespace}/${store}`);
        return "absent";
      },
    });
    const pod = jobPod({ env: { PLAIN: "hunter2-plaintext", A: "secret:gone" } });
    const review = reviewFor(pod, "uid-fields", { username: "alice", groups: [] });
    (review.request as { dryRun: boolean }).dryRun = true;
    const response = await send(review);
    expect(response.status?.code).toBe(422);
    expect(asked).toEqual([`${CASE_NAMESPACE}/user--alice--secrets`]);
    const line = logged().find((e) => e.msg === "admission");
    // README "Logs": uid, namespace, pod, operation, user, owner, decision, reason, code,
    // liveLookup, dryRun, durationMs.
    expect(line).toMatchObject({
      uid: "uid-fields",
      namespace: CASE_NAMESPACE,
      pod: "job-0b5d6c1e",
      operation: "CREATE",
      user: "alice",
      owner: "alice",
      decision: "denied",
      reason: "missing-secrets",
      code: 422,
      liveLookup: "absent",
      dryRun: true,
    });
    expect(typeof line?.durationMs).toBe("number");
    expect(line?.durationMs as number).toBeGreaterThanOrEqual(0);
    // Nothing beyond the documented fields (and the logger's own time, level and msg).
    expect(Object.keys(line ?? {}).sort()).toEqual(
      [...DOCUMENTED_FIELDS, "time", "level", "msg"].filter((f) => f !== "subResource").sort(),
    );
    expect(lines.join("")).not.toContain("hunter2-plaintext");
  });

  it("names the subresource of an ephemeral-container update", async () => {
    const { send, logged } = handlerWith({ index: indexWith({}) });
    const review = reviewFor(jobPod(), "uid-eph", PLATFORM);
    const request = review.request as { object: unknown };
    // The API server sends the stored pod as oldObject; the owner and volumes are read from it.
    Object.assign(request, {
      operation: "UPDATE",
      subResource: "ephemeralcontainers",
      oldObject: request.object,
    });
    expect((await send(review)).allowed).toBe(true);
    const line = logged().find((e) => e.msg === "admission");
    expect(line).toMatchObject({ uid: "uid-eph", operation: "UPDATE", subResource: "ephemeralcontainers" });
    for (const key of Object.keys(line ?? {})) {
      expect([...DOCUMENTED_FIELDS, "time", "level", "msg"]).toContain(key);
    }
  });

  it("says allowed and the reason of an admission that needed no lookup, without code or liveLookup", async () => {
    const { send, logged } = handlerWith({
      index: indexWith({ "user--alice--secrets": ["k"] }),
      refresh: async () => {
        throw new Error("not expected: the cache knows the key");
      },
    });
    await send(reviewFor(jobPod({ env: { A: "secret:k" } }), "uid-ok", PLATFORM));
    const line = logged().find((e) => e.msg === "admission");
    expect(line).toMatchObject({ uid: "uid-ok", decision: "allowed", reason: "mutated", owner: "alice" });
    expect(line).not.toHaveProperty("code");
    expect(line).not.toHaveProperty("liveLookup");
    expect(line).not.toHaveProperty("dryRun");
  });
});
