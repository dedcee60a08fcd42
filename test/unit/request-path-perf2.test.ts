// The request path's shortcuts answer exactly what the general path answers.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { completeReview, type PatchOperation, patched, reviewJson } from "../../src/admission/respond.js";
import type { Pod } from "../../src/admission/types.js";
import { findStoreUses } from "../../src/core/store-uses.js";
import { createMetrics } from "../../src/server/metrics.js";

const bigPatch = (tag: string): PatchOperation[] =>
  Array.from({ length: 40 }, (_, i) => ({ op: "add", path: `/metadata/labels/${tag}${i}`, value: "v" }));

describe("reviewJson with reviews completed in between", () => {
  it("writes each review as JSON.stringify does, whichever was completed last", () => {
    const first = completeReview("admission.k8s.io/v1", "u-1", patched(bigPatch("a")), {
      warnings: ["w"],
      auditAnnotations: { a: "b" },
    });
    const second = completeReview("admission.k8s.io/v1", "u-2", patched(bigPatch("b")));
    expect((second.response.patch ?? "").length).toBeGreaterThan(1024);
    expect(reviewJson(first)).toBe(JSON.stringify(first));
    expect(reviewJson(second)).toBe(JSON.stringify(second));
    // The last one's patch replaced by hand afterwards: written with its escapes.
    second.response.patch = `${"x".repeat(2000)}"\\`;
    expect(reviewJson(second)).toBe(JSON.stringify(second));
  });
});

describe("findStoreUses", () => {
  it("words the place of each store use, and only of store uses", () => {
    const pod = {
      metadata: { name: "p" },
      spec: {
        containers: [
          {
            name: "main",
            env: [
              { name: "A", valueFrom: { secretKeyRef: { name: "user--bob--secrets", key: "k" } } },
              { name: "B", valueFrom: { secretKeyRef: { name: "plain", key: "k" } } },
            ],
            envFrom: [{ secretRef: { name: "project--o--p--secrets" } }, { secretRef: { name: "x" } }],
          },
        ],
        initContainers: [{ name: "init", envFrom: [{ secretRef: { name: "user--eve--secrets" } }] }],
        volumes: [
          { name: "v", secret: { secretName: "user--bob--secrets" } },
          { name: "w", projected: { sources: [{ secret: { name: "user--bob--secrets" } }, {}] } },
        ],
        imagePullSecrets: [{ name: "user--bob--secrets" }, { name: "regcred" }],
      },
    } as unknown as Pod;
    expect(findStoreUses(pod)).toEqual([
      { where: "envFrom of init container 'init'", store: "user--eve--secrets", storeOwner: "eve" },
      { where: "env A of container 'main'", store: "user--bob--secrets", storeOwner: "bob" },
      { where: "envFrom of container 'main'", store: "project--o--p--secrets", storeOwner: "o/p" },
      expect.objectContaining({ store: "user--bob--secrets", storeOwner: "bob" }),
      expect.objectContaining({ store: "user--bob--secrets", storeOwner: "bob" }),
      expect.objectContaining({ store: "user--bob--secrets", storeOwner: "bob" }),
    ]);
  });
});

describe("countAdmission", () => {
  it("scrapes exactly as prom-client's inc and observe per admission would", async () => {
    const decisions = ["allowed", "denied", "error"];
    const reasons = ["unchanged", "mutated", "bad-request", "missing-secrets", "ignored"];
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            decision: fc.constantFrom(...decisions),
            reason: fc.constantFrom(...reasons),
            seconds: fc.option(fc.double({ min: 0, max: 40, noNaN: true }), { nil: undefined }),
            scrape: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        async (admissions) => {
          const direct = createMetrics(undefined);
          const tallied = createMetrics(undefined);
          for (const { decision, reason, seconds, scrape } of admissions) {
            direct.admissions.inc({ decision, reason });
            if (seconds !== undefined) direct.admissionDuration.observe({ decision }, seconds);
            tallied.countAdmission(decision, reason, seconds);
            if (scrape) expect(await tallied.registry.metrics()).toBe(await direct.registry.metrics());
          }
          expect(await tallied.registry.metrics()).toBe(await direct.registry.metrics());
          expect(await tallied.registry.getMetricsAsJSON()).toEqual(await direct.registry.getMetricsAsJSON());
        },
      ),
      { numRuns: 200 },
    );
  });
});
