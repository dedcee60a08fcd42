// One identity rule through the review handler: the service account the secrets API maps to alice
// may create alice's pod when the webhook has the same --username-prefix, and is a forged owner
// without it; workloads' templates follow the same rule; the message is the one users know.

import { describe, expect, it } from "vitest";
import type { IdentityRule } from "../../src/core/identity.js";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { createLogger } from "../../src/lifecycle/logger.js";
import { createReviewHandler } from "../../src/server/review-handler.js";
import { CASE_NAMESPACE, type JsonObject, jobPod } from "../cases/cases.js";
import { casePolicy, reviewFor } from "../support/replay.js";

const SA = "system:serviceaccount:apolo-users:";
const ALICE_SA = `${SA}alice`;

interface Response {
  allowed: boolean;
  status?: { code: number; message: string };
  patch?: string;
}

async function answer(username: string, identity: IdentityRule | undefined, object: JsonObject = alicePod()) {
  const index = new MemorySecretIndex();
  index.set(CASE_NAMESPACE, "user--alice--secrets", ["db_password"]);
  const handler = createReviewHandler({
    policy: { ...casePolicy(), ...(identity ? { identity } : {}) },
    index,
    refresh: undefined,
    logger: createLogger("error", () => {}),
    metrics: undefined,
  });
  const review = reviewFor(object, "uid-1", { username, groups: [] });
  if (object.kind === "Job") asJobReview(review);
  const handled = await handler(review);
  return (handled.body as { response: Response }).response;
}

/** The review of a Job's creation instead of a pod's. */
function asJobReview(review: JsonObject): void {
  const request = review.request as Record<string, unknown>;
  request.kind = { group: "batch", version: "v1", kind: "Job" };
  request.resource = { group: "batch", version: "v1", resource: "jobs" };
  request.requestKind = request.kind;
  request.requestResource = request.resource;
}

function alicePod(): JsonObject {
  return jobPod({ env: { DB: "secret:db_password" } });
}

const forged = (user: string) =>
  `'${user}' may not submit a job for owner 'alice': only the owner or a trusted submitter may create pods labelled for it`;

function patchOf(response: Response): unknown {
  return JSON.parse(Buffer.from(response.patch ?? "", "base64").toString());
}

describe("the submitter check with the identity rule", () => {
  it("admits alice's service account for alice's pod with the prefix configured, and mutates it", async () => {
    const response = await answer(ALICE_SA, { usernamePrefixes: [SA] });
    expect(response.allowed).toBe(true);
    expect(patchOf(response)).toContainEqual({
      op: "replace",
      path: "/spec/containers/0/env/0",
      value: {
        name: "DB",
        valueFrom: { secretKeyRef: { name: "user--alice--secrets", key: "db_password" } },
      },
    });
  });

  it("refuses the same service account as a forged owner without the prefix, with the message users know", async () => {
    for (const identity of [undefined, { usernamePrefixes: [""] }]) {
      const response = await answer(ALICE_SA, identity);
      expect(response).toMatchObject({ allowed: false, status: { code: 403, message: forged(ALICE_SA) } });
    }
  });

  it("refuses another user's service account, and alice's bare name once only prefixed names are owners", async () => {
    const rule = { usernamePrefixes: [SA] };
    expect((await answer(`${SA}bob`, rule)).status).toMatchObject({ code: 403, message: forged(`${SA}bob`) });
    expect((await answer("alice", rule)).status).toMatchObject({ code: 403, message: forged("alice") });
    // A service account of another namespace with the same name is not alice either.
    const other = "system:serviceaccount:other:alice";
    expect((await answer(other, rule)).status).toMatchObject({ code: 403, message: forged(other) });
  });

  it("admits both alice's service account and alice's plain (OIDC) name with the prefix and names as they are", async () => {
    const rule = { usernamePrefixes: [SA, ""] };
    expect((await answer(ALICE_SA, rule)).allowed).toBe(true);
    expect((await answer("alice", rule)).allowed).toBe(true);
    expect((await answer("bob", rule)).status?.code).toBe(403);
  });

  it("applies the same rule to a Job's pod template", async () => {
    const job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "train", namespace: CASE_NAMESPACE },
      spec: {
        template: { metadata: { labels: { "platform.apolo.us/user": "alice" } }, spec: alicePod().spec },
      },
    };
    const rule = { usernamePrefixes: [SA] };
    expect((await answer(ALICE_SA, rule, job)).allowed).toBe(true);
    expect((await answer(`${SA}bob`, rule, job)).status).toMatchObject({
      code: 403,
      message: `'${SA}bob' may not create a Job whose pod template is labelled for owner 'alice': only the owner or a trusted submitter may create workloads labelled for it`,
    });
  });
});
