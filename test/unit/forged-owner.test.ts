// A submitter who may not act for a pod's owner learns nothing about the owner's store: the answer
// is the forged-owner 403 alone, decided without reading the store or asking for a live lookup.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeReview } from "../../src/admission/decode.js";
import { admit } from "../../src/core/admit.js";
import { MemorySecretIndex, type SecretIndex } from "../../src/core/secret-index.js";
import { createLogger } from "../../src/lifecycle/logger.js";
import { createReviewHandler } from "../../src/server/review-handler.js";
import { CASE_NAMESPACE, type JsonObject, jobPod, PLATFORM_USER } from "../cases/cases.js";
import { casePolicy, reviewFor } from "../support/replay.js";

const ALICE = "user--alice--secrets";
const FORGED =
  "'bob' may not submit a job for owner 'alice': only the owner or a trusted submitter may create pods labelled for it";

/** alice's store with one key, counting every read of any store. */
function countingIndex(): SecretIndex & { reads: number } {
  const memory = new MemorySecretIndex();
  memory.set(CASE_NAMESPACE, ALICE, ["aws_key"]);
  return {
    reads: 0,
    keysOf(namespace, store) {
      this.reads++;
      return memory.keysOf(namespace, store);
    },
  };
}

function request(pod: JsonObject, username: string) {
  const decoded = decodeReview(reviewFor(pod, "uid-1", { username, groups: [] }));
  if (decoded.kind !== "review") throw new Error(decoded.message);
  return decoded.request;
}

const pods = {
  "a key alice has": jobPod({ env: { A: "secret:aws_key" } }),
  "a key alice lacks": jobPod({ env: { A: "secret:gcp_key" } }),
  "keys she has and lacks, files and a typo": jobPod({
    env: { A: "secret:aws_key", B: "secret:gcp_key", C: "secret:a/b" },
    volumes: ["secret:ssh_key:/f", "secret:aws_key:relative"],
  }),
};

describe("a forged owner", () => {
  it.each(Object.entries(pods))("gets the 403 alone, without a read of the store, for %s", (_what, pod) => {
    const index = countingIndex();
    const outcome = admit(request(pod, "bob"), casePolicy(), index);
    expect(outcome.verdict).toEqual({ allowed: false, code: 403, message: FORGED });
    expect(outcome.reason).toBe("forged-owner");
    expect(outcome.missingIn).toBeUndefined();
    expect(index.reads).toBe(0);
  });

  it("triggers no live lookup of the owner's store in the review handler", async () => {
    const lookups: string[] = [];
    const handler = createReviewHandler({
      policy: casePolicy(),
      index: countingIndex(),
      refresh: async (namespace, store) => {
        lookups.push(`${namespace}/${store}`);
        return "absent";
      },
      logger: createLogger("error", () => {}),
      metrics: undefined,
    });
    const review = (username: string) =>
      reviewFor(pods["a key alice lacks"], "uid-1", { username, groups: [] });

    const forged = await handler(review("bob"));
    expect(forged.body).toMatchObject({
      response: { allowed: false, status: { code: 403, message: FORGED } },
    });
    expect(lookups).toEqual([]);

    // The platform, which may act for alice, is told about the missing key after a fresh look.
    const trusted = await handler(review(PLATFORM_USER));
    expect(trusted.body).toMatchObject({
      response: { allowed: false, status: { code: 422, message: "Missing secrets: 'gcp_key'" } },
    });
    expect(lookups).toEqual([`${CASE_NAMESPACE}/${ALICE}`]);
  });

  it("still learns about its own mistakes when it is the owner", () => {
    const index = countingIndex();
    const outcome = admit(request(pods["a key alice lacks"], "alice"), casePolicy(), index);
    expect(outcome.verdict).toMatchObject({
      allowed: false,
      code: 422,
      message: "Missing secrets: 'gcp_key'",
    });
    expect(outcome.missingIn).toEqual({ namespace: CASE_NAMESPACE, store: ALICE });
  });

  it("gets an answer that does not depend on what the owner's store holds", () => {
    const KEYS = ["aws_key", "gcp_key", "k1"];
    const reference = fc.oneof(
      fc.constantFrom(...KEYS).map((k) => `secret:${k}`),
      fc.constantFrom(...KEYS).map((k) => `secret:/alice/${k}`),
      fc.constantFrom("secret:a/b", "secret:..x", "secret:/bob/k1"),
    );
    const pod = fc
      .record({
        env: fc.dictionary(fc.constantFrom("A", "B", "C"), reference),
        files: fc.array(
          fc.tuple(reference, fc.constantFrom("/f", "/g", "rel")).map(([r, p]) => `${r}:${p}`),
          { maxLength: 2 },
        ),
      })
      .map(({ env, files }) => jobPod({ env, ...(files.length > 0 ? { volumes: files } : {}) }));
    const keySets = fc.subarray(KEYS);
    fc.assert(
      fc.property(pod, keySets, keySets, (p, first, second) => {
        const answers = [first, second].map((keys) => {
          const index = new MemorySecretIndex();
          if (keys.length > 0) index.set(CASE_NAMESPACE, ALICE, keys);
          return admit(request(p, "bob"), casePolicy(), index);
        });
        expect(answers[0]).toEqual(answers[1]);
        expect(answers[0]?.verdict).toEqual({ allowed: false, code: 403, message: FORGED });
      }),
      { numRuns: 500, seed: 20261127 },
    );
  });
});
