// The request path's fast versions give the same bytes as the plain ones they replaced: the log
// line (written without copying its fields), the patch's base64 (through a reused buffer), the
// JSON pointers of env operations (written out) and the places named in refusals (worded only
// when a message needs them).

import { describe, expect, it } from "vitest";
import {
  completeReview,
  denied,
  type PatchOperation,
  patched,
  reviewJson,
} from "../../src/admission/respond.js";
import type { ContainerField, Pod } from "../../src/admission/types.js";
import { toJsonPatch } from "../../src/core/patch.js";
import { planInjection } from "../../src/core/plan.js";
import { pointer } from "../../src/core/pointer.js";
import type { Policy } from "../../src/core/policy.js";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { createLogger, type LogFields } from "../../src/lifecycle/logger.js";

const policy: Policy = {
  scope: "user",
  clusterName: "here",
  trustedUsers: new Set(),
  trustedGroups: new Set(),
  trustedControllers: new Set(),
};

/** One logged line, and the same line as JSON.stringify of the spread object gives it. */
function logged(message: string, fields?: LogFields): { line: string; plain: string } {
  const lines: string[] = [];
  createLogger("info", (line) => lines.push(line)).info(message, fields);
  const line = lines[0] as string;
  const time = (JSON.parse(line) as { time: string }).time;
  return { line, plain: `${JSON.stringify({ time, level: "info", msg: message, ...fields })}\n` };
}

describe("the log line", () => {
  it("is the JSON of time, level, message and fields, in that order", () => {
    const cases: [string, LogFields | undefined][] = [
      ["admission", { uid: "u-1", pod: undefined, code: 403, dryRun: true, owner: null, durationMs: 0.012 }],
      ["no fields", undefined],
      ["empty fields", {}],
      ["only undefined", { a: undefined }],
      ['quotes " and \\ and\nnewlines', { name: 'a"b\\c\n\u2028', unicode: "ünïcødé 🙂", lone: "\ud800" }],
      ["fields named like the fixed ones", { msg: "replaced", level: "x", time: "t", extra: 1 }],
      ["a field named time", { a: 1, time: "t" }],
      ["a field named level", { level: "x" }],
      ["a field named msg", { msg: "replaced", b: 2 }],
    ];
    for (const [message, fields] of cases) {
      const { line, plain } = logged(message, fields);
      expect(line).toBe(plain);
    }
  });

  it("carries the current time", () => {
    const before = Date.now();
    const { line } = logged("now");
    const time = Date.parse((JSON.parse(line) as { time: string }).time);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
  });
});

/** A patch with one env operation per given value. */
function patchOf(values: string[]): PatchOperation[] {
  return values.map((key, i) => ({
    op: "replace",
    path: `/spec/containers/0/env/${i}`,
    value: { name: `V_${i}`, valueFrom: { secretKeyRef: { name: "user--alice--secrets", key } } },
  }));
}

function encodedPatch(patch: PatchOperation[]): string | undefined {
  const review = completeReview("admission.k8s.io/v1", "u", patched(patch));
  return review.response.patch;
}

describe("the patch's base64", () => {
  it("is the UTF-8 of the patch's JSON, whatever its size and characters, one answer after another", () => {
    const sizes = [
      patchOf(["a", "b"]),
      patchOf(["ünïcødé", "🙂", "\ud800", "\udfff x"]),
      // Larger than the reused buffer so far (it grows), then larger than its cap (1 MiB).
      patchOf(Array.from({ length: 2_000 }, (_, i) => `k${i}é`)),
      patchOf(Array.from({ length: 6_000 }, (_, i) => `key_${i}_🙂`)),
      patchOf(["small again"]),
    ];
    for (const patch of sizes) {
      const expected = Buffer.from(JSON.stringify(patch), "utf8").toString("base64");
      expect(encodedPatch(patch)).toBe(expected);
    }
  });
});

describe("the review's JSON text", () => {
  it("is what JSON.stringify gives, with the patch set in or serialized with the rest", () => {
    const large = patchOf(Array.from({ length: 300 }, (_, i) => `key_${i}`));
    const notes = {
      warnings: ['a "quoted" warning'],
      auditAnnotations: { decision: "allowed", keys: "a,b" },
    };
    const reviews = [
      completeReview("admission.k8s.io/v1", "u-1", patched(patchOf(["a"]))),
      completeReview("admission.k8s.io/v1", 'u-"2"', patched(large, ["w"]), notes),
      completeReview("admission.k8s.io/v1", "u-3", patched(large)),
      completeReview("admission.k8s.io/v1", "u-4", denied(422, "Missing secrets: 'k'"), notes),
    ];
    for (const review of reviews) expect(reviewJson(review)).toBe(JSON.stringify(review));
    expect(reviewJson(reviews[2] as never).length).toBeGreaterThan(20_000);
  });

  it("serializes a patch it did not encode itself, escapes and all", () => {
    const review = completeReview("admission.k8s.io/v1", "u", patched(patchOf(["a".repeat(2000)])));
    review.response.patch = `${"x".repeat(2000)}"\\\n\u2028`;
    expect(reviewJson(review)).toBe(JSON.stringify(review));
    const handMade = {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview" as const,
      response: { uid: "u", allowed: true, patchType: "JSONPatch" as const, patch: `"${"y".repeat(3000)}"` },
    };
    expect(reviewJson(handMade)).toBe(JSON.stringify(handMade));
  });
});

describe("env operations", () => {
  it("point where the generic pointer points, in every kind of container", () => {
    const index = new MemorySecretIndex();
    index.set("ns", "user--alice--secrets", ["k"]);
    const env = [
      { name: "PLAIN", value: "x" },
      { name: "S", value: "secret:k" },
    ];
    const fields: [ContainerField, "create" | "ephemeral"][] = [
      ["initContainers", "create"],
      ["containers", "create"],
      ["ephemeralContainers", "ephemeral"],
    ];
    for (const [field, mode] of fields) {
      const pod: Pod = {
        metadata: { labels: { "platform.apolo.us/user": "alice" } },
        spec: { containers: [{ name: "a" }], [field]: [{ name: "b" }, { name: "c", env }] },
      };
      const plan = planInjection({ pod, namespace: "ns", mode, submitter: undefined }, policy, index);
      if (plan.kind !== "plan") throw new Error(plan.message);
      const [operation] = toJsonPatch(plan);
      expect(operation?.path).toBe(pointer("spec", field, 1, "env", 1));
    }
  });
});

describe("places in refusals", () => {
  it("name the env variable and its container for each reference that breaks a rule", () => {
    const pod: Pod = {
      metadata: { labels: { "platform.apolo.us/user": "alice" } },
      spec: {
        initContainers: [{ name: "setup", env: [{ name: "MINE", value: "secret:k" }] }],
        containers: [
          {
            name: "main",
            env: [
              { name: "THEIRS", value: "secret:/bob/k" },
              { name: "ELSEWHERE", value: "secret://other/alice/k" },
              { name: "BROKEN", value: "secret:a/b" },
            ],
          },
        ],
      },
    };
    const plan = planInjection(
      { pod, namespace: "ns", mode: "create", submitter: undefined },
      policy,
      new MemorySecretIndex(),
    );
    if (plan.kind !== "refusal") throw new Error("expected a refusal");
    expect(plan.message).toContain("env THEIRS of container 'main'");
    expect(plan.message).toContain("env ELSEWHERE of container 'main'");
    expect(plan.message).toContain("env BROKEN of container 'main'");
    expect(plan.message).not.toContain("MINE");
  });

  it("list every reference's place when the pod has no owner", () => {
    const pod: Pod = {
      metadata: {},
      spec: { containers: [{ name: "main", env: [{ name: "A", value: "secret:k" }] }] },
    };
    const plan = planInjection(
      { pod, namespace: "ns", mode: "create", submitter: undefined },
      policy,
      new MemorySecretIndex(),
    );
    if (plan.kind !== "refusal") throw new Error("expected a refusal");
    expect(plan.reason).toBe("no-owner");
    expect(plan.message).toContain("env A of container 'main'");
  });
});
