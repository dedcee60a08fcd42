// The shared cases against the pure admission function.

import { describe, it } from "vitest";
import { decodeReview } from "../../src/admission/decode.js";
import { admit } from "../../src/core/admit.js";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { type AdmissionCase, CASE_NAMESPACE, cases, type JsonObject } from "../cases/cases.js";
import { type Answer, casePolicy, expectCaseAnswer, reviewFor, submitterOf } from "../support/replay.js";

function answerFor(c: AdmissionCase, pod: JsonObject): Answer {
  const index = new MemorySecretIndex();
  for (const [store, keys] of Object.entries(c.stores)) index.set(CASE_NAMESPACE, store, keys);
  const decoded = decodeReview(structuredClone(reviewFor(pod, "uid-1", submitterOf(c))));
  if (decoded.kind !== "review") throw new Error(decoded.message);
  const { verdict } = admit(decoded.request, casePolicy(c.scope), index);
  return verdict.allowed
    ? { allowed: true, patch: verdict.patch as Answer["patch"] }
    : { allowed: false, code: verdict.code, message: verdict.message, patch: [] };
}

describe("admission cases (pure core)", () => {
  for (const c of cases) {
    it(c.name, async () => {
      await expectCaseAnswer(c, answerFor(c, c.pod), async (pod) => answerFor(c, pod));
    });
  }
});
