// Property-based tests on generated pods: whatever the pod, an allowed answer's patch applies,
// a second pass changes nothing, no secret: value survives, and no foreign store is referenced.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeReview } from "../../src/admission/decode.js";
import { admit } from "../../src/core/admit.js";
import { storeOwner } from "../../src/core/owner.js";
import type { Policy } from "../../src/core/policy.js";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { SECRET_NAME_FIELDS } from "../../src/core/store-uses.js";
import { CASE_NAMESPACE, type JsonObject } from "../cases/cases.js";
import { type Answer, applyPatch, reviewFor } from "../support/replay.js";

const OWNERS = ["alice", "bob"];
const KEYS = ["k1", "k2", "db.pass", "tok_en"];
const policy: Policy = {
  scope: "user",
  clusterName: "c1",
  trustedUsers: new Set(["platform"]),
  trustedGroups: new Set(),
  trustedControllers: new Set(),
};

const key = fc.oneof(
  { arbitrary: fc.constantFrom(...KEYS), weight: 9 },
  { arbitrary: fc.constant("absent"), weight: 1 },
);
const owner = fc.oneof(
  { arbitrary: fc.constant(OWNERS[0] as string), weight: 4 },
  { arbitrary: fc.constantFrom(...OWNERS), weight: 1 },
);
const storeName = fc.oneof(
  { arbitrary: fc.constantFrom("tls-cert", "registry"), weight: 3 },
  { arbitrary: owner.map((o) => `user--${o}--secrets`), weight: 1 },
  { arbitrary: fc.constant("project--acme--ml--secrets"), weight: 1 },
);
// Mostly well-formed references to the usual owner, so allowed pods are common; the rest probe refusals.
const reference = fc.oneof(
  { arbitrary: key.map((k) => `secret:${k}`), weight: 12 },
  { arbitrary: fc.tuple(owner, key).map(([o, k]) => `secret:/${o}/${k}`), weight: 2 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom("c1", "c2"), owner, key)
      .map(([c, o, k]) => `secret://${c}/${o}/${k}`),
    weight: 2,
  },
  { arbitrary: fc.constantFrom("secret:", "secret:a/b", "secret:/x", "secret:..bad"), weight: 1 },
);
// Volume sources that name a Secret, old and new (the kubelet hands the Secret to their driver).
const VOLUME_KINDS: ((secret: string) => JsonObject)[] = [
  (s) => ({ name: `v-${s}`, secret: { secretName: s } }),
  (s) => ({ name: `p-${s}`, projected: { sources: [{ secret: { name: s } }] } }),
  (s) => ({ name: `c-${s}`, csi: { driver: "d", nodePublishSecretRef: { name: s } } }),
  (s) => ({ name: `i-${s}`, iscsi: { targetPortal: "t", iqn: "q", lun: 0, secretRef: { name: s } } }),
  (s) => ({ name: `a-${s}`, azureFile: { shareName: "s", secretName: s } }),
];
const envVar = (name: string) =>
  fc.oneof(
    fc.string({ maxLength: 8 }).map((value) => ({ name, value })),
    reference.map((value) => ({ name, value })),
    fc.tuple(storeName, key).map(([s, k]) => ({ name, valueFrom: { secretKeyRef: { name: s, key: k } } })),
  );
const container = (name: string) =>
  fc.record(
    {
      name: fc.constant(name),
      image: fc.constant("img"),
      env: fc
        .array(fc.nat(9), { maxLength: 4 })
        .chain((ids) => fc.tuple(...[...new Set(ids)].map((id) => envVar(`E${id}`)))),
      envFrom: fc.array(
        storeName.map((s) => ({ secretRef: { name: s } })),
        { maxLength: 1 },
      ),
      volumeMounts: fc.array(
        fc.constantFrom("/data", "/f/k1").map((p) => ({ name: "data", mountPath: p })),
        { maxLength: 1 },
      ),
    },
    { requiredKeys: ["name", "image"] },
  );
const fileEntry = fc.oneof(
  fc
    .tuple(reference, fc.constantFrom("/f/k1", "/f/k2", "/data", "rel", "/a/../b"))
    .map(([r, p]) => `${r}:${p}`),
  fc.record({
    uri: reference,
    mountPath: fc.constantFrom("/g/a", "/g/b"),
    containers: fc.constantFrom(["c0"], ["i0"], ["c0", "c1"], ["zz"]),
  }),
);
const pod = fc
  .record({
    owner: fc.option(owner, { nil: undefined }),
    init: fc.integer({ min: 0, max: 1 }),
    regular: fc.integer({ min: 1, max: 2 }),
    files: fc.option(fc.array(fileEntry, { maxLength: 3 }), { nil: undefined }),
    volumes: fc.option(
      fc.array(
        fc.tuple(storeName, fc.constantFrom(...VOLUME_KINDS)).map(([s, kind]) => kind(s)),
        { maxLength: 1 },
      ),
      {
        nil: undefined,
      },
    ),
    pullSecrets: fc.option(
      fc.array(
        storeName.map((name) => ({ name })),
        { maxLength: 1 },
      ),
      { nil: undefined },
    ),
  })
  .chain((shape) =>
    fc
      .tuple(
        fc.tuple(...Array.from({ length: shape.init }, (_, i) => container(`i${i}`))),
        fc.tuple(...Array.from({ length: shape.regular }, (_, i) => container(`c${i}`))),
      )
      .map(([init, regular]): JsonObject => {
        const volumes = [...(shape.volumes ?? []), { name: "data", emptyDir: {} }];
        return {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: "p",
            labels: shape.owner ? { "platform.apolo.us/user": shape.owner } : {},
            ...(shape.files
              ? { annotations: { "platform.apolo.us/secret-volumes": JSON.stringify(shape.files) } }
              : {}),
          },
          spec: {
            ...(init.length > 0 ? { initContainers: init } : {}),
            containers: regular,
            volumes,
            ...(shape.pullSecrets ? { imagePullSecrets: shape.pullSecrets } : {}),
          },
        };
      }),
  );
const stores = fc.record({
  alice: fc.oneof({ arbitrary: fc.constant(KEYS), weight: 3 }, { arbitrary: fc.subarray(KEYS), weight: 1 }),
  bob: fc.subarray(KEYS),
});

function answer(p: JsonObject, keys: { alice: string[]; bob: string[] }, user: string): Answer {
  const index = new MemorySecretIndex();
  index.set(CASE_NAMESPACE, "user--alice--secrets", keys.alice);
  index.set(CASE_NAMESPACE, "user--bob--secrets", keys.bob);
  const decoded = decodeReview(reviewFor(structuredClone(p), "u", { username: user, groups: [] }));
  if (decoded.kind !== "review") throw new Error(decoded.message);
  const { verdict } = admit(decoded.request, policy, index);
  return verdict.allowed
    ? { allowed: true, patch: verdict.patch as Answer["patch"] }
    : { allowed: false, code: verdict.code, message: verdict.message, patch: [] };
}

/** Every Secret name in the pod, at each field the core lists as naming one. */
function secretNames(p: JsonObject): string[] {
  return SECRET_NAME_FIELDS.flatMap((path) => {
    let values: unknown[] = [p];
    for (const segment of path.split(".")) {
      const list = segment.endsWith("[]");
      const key = list ? segment.slice(0, -2) : segment;
      values = values.flatMap((v) => {
        const next = typeof v === "object" && v !== null ? (v as JsonObject)[key] : undefined;
        return list ? (Array.isArray(next) ? next : []) : next === undefined ? [] : [next];
      });
    }
    return values.filter((v): v is string => typeof v === "string");
  });
}

describe("properties of admission on generated pods", () => {
  it("allowed patches apply, are idempotent, leave no secret: value and no foreign store", () => {
    let allowedWithPatch = 0;
    fc.assert(
      fc.property(pod, stores, fc.constantFrom("platform", "platform", "alice", "bob"), (p, keys, user) => {
        const first = answer(p, keys, user);
        if (!first.allowed) {
          expect([403, 422]).toContain(first.code);
          expect(first.message?.length).toBeGreaterThan(0);
          return;
        }
        if (first.patch.length > 0) allowedWithPatch++;
        const mutated = applyPatch(p, first.patch);
        expect(answer(mutated, keys, user)).toEqual({ allowed: true, patch: [] });
        expect(JSON.stringify(mutated)).not.toMatch(/"value":"secret:/);
        const ownerLabel = (p.metadata as { labels: Record<string, string> }).labels[
          "platform.apolo.us/user"
        ];
        for (const name of secretNames(mutated)) {
          if (storeOwner(name) !== undefined) expect(name).toBe(`user--${ownerLabel}--secrets`);
        }
      }),
      { numRuns: 3000, seed: 20261127 },
    );
    // The generator must reach the interesting region, or the property proves little.
    expect(allowedWithPatch).toBeGreaterThan(50);
  });

  it("never throws on arbitrary JSON in the pod's fields", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (spec, labels) => {
        const review = reviewFor({ metadata: { labels }, spec } as JsonObject, "u", {
          username: "x",
          groups: [],
        });
        const decoded = decodeReview(review);
        if (decoded.kind === "review") admit(decoded.request, policy, new MemorySecretIndex());
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});
