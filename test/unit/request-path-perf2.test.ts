// The request path's shortcuts answer exactly what the general path answers.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodePod } from "../../src/admission/decode.js";
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

describe("decodePod names the field that is wrong", () => {
  // A pod with every field the decoder checks; each one in turn given a number instead.
  const pod = () => ({
    metadata: { name: "p", namespace: "n", labels: { a: "b" }, annotations: { c: "d" } },
    spec: {
      initContainers: [{ name: "i", env: [{ name: "E", value: "v" }] }],
      containers: [
        { name: "c0" },
        {
          name: "c1",
          env: [
            { name: "A", value: "x" },
            { name: "B", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
          ],
          envFrom: [{ secretRef: { name: "s" } }],
          volumeMounts: [{ name: "v", mountPath: "/m", subPath: "f" }],
        },
      ],
      ephemeralContainers: [{ name: "e", envFrom: [{}] }],
      volumes: [
        { name: "v", secret: { secretName: "s" }, projected: { sources: [{ secret: { name: "s" } }] } },
      ],
      imagePullSecrets: [{ name: "r" }],
    },
  });
  const paths = (value: unknown, at: string): string[] => {
    if (typeof value !== "object" || value === null) return [at];
    const inner = Array.isArray(value)
      ? value.flatMap((item, i) => paths(item, `${at}[${i}]`))
      : Object.entries(value).flatMap(([key, item]) => paths(item, `${at}.${key}`));
    return at === "" ? inner : [at, ...inner];
  };
  const ignored = new Set([".spec.containers[1].env[1].valueFrom.secretKeyRef.key"]);

  it("for every checked field of the pod", () => {
    const all = paths(pod(), "").filter((p) => !ignored.has(p));
    expect(all.length).toBeGreaterThan(40);
    for (const path of all) {
      const broken = pod() as Record<string, unknown>;
      const keys = path.slice(1).replaceAll("[", ".").replaceAll("]", "").split(".");
      let holder = broken;
      for (const key of keys.slice(0, -1)) holder = holder[key] as Record<string, unknown>;
      holder[keys.at(-1) as string] = 42;
      const decoded = decodePod(broken);
      expect(decoded, path).toHaveProperty("error");
      expect((decoded as { error: string }).error, path).toMatch(
        new RegExp(`^pod${regexEscape(path)} must be `),
      );
    }
  });
});

function regexEscape(text: string): string {
  return text.replace(/[.[\]]/g, (c) => `\\${c}`);
}
