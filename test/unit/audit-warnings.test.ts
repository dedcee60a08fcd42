// What a review's answer tells besides its decision: audit annotations with names only, and
// warnings, close names only for a submitter allowed to act for the owner.

import { describe, expect, it } from "vitest";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { createLogger } from "../../src/lifecycle/logger.js";
import { createReviewHandler } from "../../src/server/review-handler.js";
import { CASE_NAMESPACE, type JsonObject, jobPod, PLATFORM_USER } from "../cases/cases.js";
import { casePolicy, reviewFor } from "../support/replay.js";

interface Answer {
  allowed: boolean;
  status?: { code: number; message: string };
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

async function answer(pod: JsonObject, username: string): Promise<Answer> {
  const index = new MemorySecretIndex();
  index.set(CASE_NAMESPACE, "user--alice--secrets", ["db_password", "aws_key", "hunter_value_like_key"]);
  const handler = createReviewHandler({
    policy: casePolicy(),
    index,
    refresh: undefined,
    logger: createLogger("error", () => {}),
    metrics: undefined,
  });
  const handled = await handler(reviewFor(pod, "uid-1", { username, groups: [] }));
  return (handled.body as { response: Answer }).response;
}

describe("audit annotations", () => {
  it("name the owner, the keys used, the decision and its reason on an admitted pod", async () => {
    const response = await answer(jobPod({ env: { B: "secret:db_password", A: "secret:aws_key" } }), "alice");
    expect(response.allowed).toBe(true);
    expect(response.auditAnnotations).toEqual({
      owner: "alice",
      keys: "aws_key,db_password",
      decision: "allowed",
      reason: "mutated",
    });
  });

  it("name the missing-secrets refusal", async () => {
    const response = await answer(jobPod({ env: { A: "secret:db_pasword" } }), PLATFORM_USER);
    expect(response.status?.message).toBe("Missing secrets: 'db_pasword'");
    expect(response.auditAnnotations).toEqual({
      owner: "alice",
      keys: "db_pasword",
      decision: "denied",
      reason: "missing-secrets",
    });
  });

  it("say nothing of the owner's store on a forged-owner refusal", async () => {
    const response = await answer(jobPod({ env: { A: "secret:db_pasword" } }), "bob");
    expect(response.status?.code).toBe(403);
    expect(response.auditAnnotations).toEqual({ owner: "alice", decision: "denied", reason: "forged-owner" });
    expect(response.warnings).toBeUndefined();
  });
});

describe("warnings", () => {
  it("offer close names of the owner's store with a Missing secrets refusal, keeping its message", async () => {
    const response = await answer(jobPod({ env: { A: "secret:db_pasword", B: "secret:zzz" } }), "alice");
    expect(response.status?.message).toBe("Missing secrets: 'db_pasword', 'zzz'");
    expect(response.warnings).toEqual(["secret 'db_pasword' is missing: did you mean 'db_password'?"]);
  });

  it("name the legacy owner label", async () => {
    const pod = jobPod({
      owner: undefined,
      labels: { "platform.neuromation.io/user": "alice" },
      env: { A: "secret:aws_key" },
    });
    const response = await answer(pod, "alice");
    expect(response.allowed).toBe(true);
    expect(response.warnings).toEqual([
      "the owner label 'platform.neuromation.io/user' uses the legacy prefix platform.neuromation.io/; use platform.apolo.us/ instead",
    ]);
  });

  it("say that secret files mounted with subPath do not follow later changes", async () => {
    const response = await answer(
      jobPod({ volumes: ["secret:aws_key:/etc/a", "secret:db_password:/etc/b"] }),
      "alice",
    );
    expect(response.allowed).toBe(true);
    expect(response.warnings).toEqual([
      "2 secret file(s) mounted with subPath: a running container does not see later changes to the secret; restart the job to pick them up",
    ]);
    expect(response.auditAnnotations?.keys).toBe("aws_key,db_password");
  });

  it("are absent from a plain admitted pod", async () => {
    const response = await answer(jobPod({ env: { A: "secret:aws_key" } }), "alice");
    expect(response.warnings).toBeUndefined();
  });
});
