// The answer's text written in one pass is exactly JSON.stringify of the review completeReview
// returns, for every outcome and any user text (uids, owners, keys, warnings, messages).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  completeReview,
  denied,
  type PatchOperation,
  patched,
  reviewJson,
  type Verdict,
} from "../../src/admission/respond.js";
import { auditAnnotations } from "../../src/core/advice.js";

// Characters JSON escapes or that are easy to get wrong: quotes, backslashes, control characters,
// the line separators, lone and paired surrogates, non-ASCII.
const awkward = fc.constantFrom(
  '"',
  "\\",
  "\n",
  "\r",
  "\t",
  "\u0000",
  "\u0007",
  "\u001f",
  "\u007f",
  "\u2028",
  "\u2029",
  "\ud800",
  "\udfff",
  "\ud83d\ude00",
  "é",
  "/",
  "<",
);
const unit = fc.oneof(
  awkward,
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
);
const text = fc.oneof(fc.string({ unit, maxLength: 40 }), fc.string({ maxLength: 20 }));

const operation: fc.Arbitrary<PatchOperation> = fc.record({
  op: fc.constantFrom("add" as const, "replace" as const),
  path: text,
  value: fc.oneof(text, fc.dictionary(text, text, { maxKeys: 3 })),
});

const verdict: fc.Arbitrary<Verdict> = fc.oneof(
  fc
    .tuple(
      fc.array(operation, { maxLength: 60 }),
      fc.option(fc.array(text, { maxLength: 3 }), { nil: undefined }),
    )
    .map(([patch, warnings]) => patched(patch, warnings)),
  fc
    .tuple(fc.constantFrom(400, 403, 413, 422, 500, 418), text, fc.option(text, { nil: undefined }))
    .map(([code, message, reason]) => denied(code, message, reason)),
);

const annotations = fc.oneof(
  fc.constant(undefined),
  fc
    .record({
      owner: fc.option(text, { nil: undefined }),
      keys: fc.array(text, { maxLength: 5 }),
      decision: fc.constantFrom("allowed", "denied", "error"),
      reason: text,
    })
    .map((facts) => auditAnnotations(facts)),
  // Any record: integer-like keys (written first by JSON.stringify) and "__proto__" among them.
  fc.dictionary(fc.oneof(text, fc.constantFrom("0", "7", "10", "__proto__", "keys")), text, { maxKeys: 6 }),
);

describe("reviewJson of a completed review", () => {
  it("is JSON.stringify of it for any outcome, uid, owner, keys and warnings", () => {
    let spliced = 0;
    fc.assert(
      fc.property(
        fc.oneof(fc.constant("admission.k8s.io/v1"), text),
        text,
        verdict,
        fc.option(fc.array(text, { maxLength: 4 }), { nil: undefined }),
        annotations,
        (apiVersion, uid, decided, warnings, notes) => {
          const review = completeReview(apiVersion, uid, decided, { warnings, auditAnnotations: notes });
          expect(reviewJson(review)).toBe(JSON.stringify(review));
          if ((review.response.patch ?? "").length >= 1024) spliced++;
        },
      ),
      { numRuns: 2000 },
    );
    // Large patches are set into the text as they are (reviewJson's splice): some runs had one.
    expect(spliced).toBeGreaterThan(0);
  });

  it("is JSON.stringify of it after its fields were changed by hand", () => {
    const review = completeReview(
      "admission.k8s.io/v1",
      'u"1',
      patched([{ op: "add", path: "/a", value: 1 }]),
      {
        warnings: ["w\u0000"],
        auditAnnotations: { decision: "allowed", reason: "mutated" },
      },
    );
    review.response.patch = 'not "base64"\\';
    review.response.warnings = ["\u2028", '"'];
    review.response.auditAnnotations = { "2": "x", b: "\ud800", "1": "y" };
    expect(reviewJson(review)).toBe(JSON.stringify(review));
  });
});
