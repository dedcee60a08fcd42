// Every Pod field that names a Secret: the core's covered list, the decoder's shape checks and the
// refusal of another owner's store, one field at a time, in every container kind.

import { describe, expect, it } from "vitest";
import { decodeReview } from "../../src/admission/decode.js";
import { admit } from "../../src/core/admit.js";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { findStoreUses, SECRET_NAME_FIELDS } from "../../src/core/store-uses.js";
import {
  type JsonObject,
  PLATFORM_USER,
  podWithSecretFields,
  SECRET_FIELD_SAMPLES,
  type SecretFieldSample,
} from "../cases/cases.js";
import { casePolicy, reviewFor } from "../support/replay.js";

const BOB = "user--bob--secrets";
const ALICE = "user--alice--secrets";

function ephemeralReview(pod: JsonObject): JsonObject {
  const review = reviewFor(pod, "uid-1", { username: PLATFORM_USER, groups: [] });
  const request = review.request as JsonObject;
  // The stored pod (oldObject) carries the owner and volumes; the sent one only its ephemeral containers.
  return {
    ...review,
    request: { ...request, operation: "UPDATE", subResource: "ephemeralcontainers", oldObject: pod },
  };
}

function reviewOf(sample: SecretFieldSample, pod: JsonObject): JsonObject {
  return sample.create
    ? reviewFor(pod, "uid-1", { username: PLATFORM_USER, groups: [] })
    : ephemeralReview(pod);
}

function decoded(review: JsonObject) {
  const result = decodeReview(structuredClone(review));
  if (result.kind !== "review") throw new Error(result.message);
  return result.request;
}

/** The concrete path of a covered field in a sample pod, as a pattern: list indexes vary. */
function pathPattern(path: string): RegExp {
  const escaped = path.replace(/[.[\]]/g, (c) => `\\${c}`).replaceAll("\\[\\]", "\\[\\d+\\]");
  return new RegExp(`^request\\.object\\.${escaped}`);
}

describe("SECRET_NAME_FIELDS", () => {
  it("lists exactly the fields the shared samples exercise, each once", () => {
    expect(new Set(SECRET_NAME_FIELDS).size).toBe(SECRET_NAME_FIELDS.length);
    expect([...SECRET_NAME_FIELDS].sort()).toEqual(SECRET_FIELD_SAMPLES.map((s) => s.path).sort());
  });

  it("covers imagePullSecrets and the volume sources that hand a Secret to a driver", () => {
    for (const path of [
      "spec.imagePullSecrets[].name",
      "spec.volumes[].csi.nodePublishSecretRef.name",
      "spec.volumes[].flexVolume.secretRef.name",
      "spec.volumes[].iscsi.secretRef.name",
      "spec.volumes[].azureFile.secretName",
      "spec.volumes[].cephfs.secretRef.name",
      "spec.volumes[].rbd.secretRef.name",
      "spec.volumes[].scaleIO.secretRef.name",
      "spec.volumes[].storageos.secretRef.name",
      "spec.ephemeralContainers[].envFrom[].secretRef.name",
    ]) {
      expect(SECRET_NAME_FIELDS).toContain(path);
    }
  });
});

describe.each(SECRET_FIELD_SAMPLES.map((sample) => [sample.path, sample] as const))("%s", (_path, sample) => {
  it("is found when it names a store, with the words of the message", () => {
    const request = decoded(reviewOf(sample, podWithSecretFields("alice", [sample], BOB)));
    expect(findStoreUses(request.object as NonNullable<typeof request.object>)).toEqual([
      { where: sample.where, store: BOB, storeOwner: "bob" },
    ]);
  });

  it("refuses another owner's store, naming the field", () => {
    const request = decoded(reviewOf(sample, podWithSecretFields("alice", [sample], BOB)));
    const { verdict, reason } = admit(request, casePolicy(), new MemorySecretIndex());
    expect(reason).toBe("foreign-store");
    expect(verdict).toEqual({
      allowed: false,
      code: 403,
      message: `${sample.where} uses the secret store '${BOB}' of 'bob' directly, but this job belongs to 'alice': use secret:KEY references to your own secrets instead`,
    });
  });

  it("refuses a store in a pod without an owner", () => {
    const request = decoded(reviewOf(sample, podWithSecretFields(undefined, [sample], ALICE)));
    const { verdict } = admit(request, casePolicy(), new MemorySecretIndex());
    expect(verdict.allowed).toBe(false);
    expect(verdict.allowed === false && verdict.message).toMatch(/but this pod has no owner/);
  });

  it("leaves a Secret that is not a store alone, and allows the owner's own store", () => {
    for (const [owner, secret] of [
      [undefined, "registry-creds"],
      ["alice", "registry-creds"],
      ["alice", ALICE],
    ] as const) {
      const request = decoded(reviewOf(sample, podWithSecretFields(owner, [sample], secret)));
      expect(admit(request, casePolicy(), new MemorySecretIndex()).verdict).toMatchObject({ allowed: true });
    }
  });

  it("is a decode error naming the path when the name is not a string", () => {
    const pod = JSON.parse(
      JSON.stringify(podWithSecretFields("alice", [sample], "PLACEHOLDER")).replace('"PLACEHOLDER"', "42"),
    ) as JsonObject;
    const result = decodeReview(reviewOf(sample, pod));
    expect(result.kind).toBe("decode-error");
    expect(result.kind === "decode-error" && result.message).toMatch(pathPattern(sample.path));
    expect(result.kind === "decode-error" && result.message).toMatch(/ must be a string$/);
  });
});

describe("decoding the volume sources that name a Secret", () => {
  const volumeReview = (volume: JsonObject) =>
    decodeReview(
      reviewFor(
        { metadata: { name: "p" }, spec: { containers: [{ name: "c" }], volumes: [volume] } },
        "uid-1",
        { username: PLATFORM_USER, groups: [] },
      ),
    );

  it("refuses a reference that is not an object, naming its path", () => {
    const result = volumeReview({ name: "v", csi: { driver: "d", nodePublishSecretRef: "alice" } });
    expect(result).toMatchObject({
      kind: "decode-error",
      message: "request.object.spec.volumes[0].csi.nodePublishSecretRef must be an object",
    });
  });

  it("refuses a volume source that is not an object, and imagePullSecrets that are not a list", () => {
    expect(volumeReview({ name: "v", iscsi: "x" })).toMatchObject({
      message: "request.object.spec.volumes[0].iscsi must be an object",
    });
    const pullSecrets = decodeReview(
      reviewFor(
        { metadata: { name: "p" }, spec: { containers: [{ name: "c" }], imagePullSecrets: "x" } },
        "uid-1",
        { username: PLATFORM_USER, groups: [] },
      ),
    );
    expect(pullSecrets).toMatchObject({ message: "request.object.spec.imagePullSecrets must be a list" });
  });

  it("tolerates absent and null references and fields it does not read", () => {
    for (const volume of [
      { name: "v", csi: { driver: "d" } },
      { name: "v", csi: { driver: "d", nodePublishSecretRef: null } },
      { name: "v", azureFile: { shareName: "s", secretName: null } },
      { name: "v", rbd: { monitors: ["m"], image: "i", secretRef: {} } },
      { name: "v", flexVolume: null },
      { name: "v", cephfs: { monitors: ["m"], secretFile: "/etc/ceph/user.secret" } },
    ]) {
      expect(volumeReview(volume).kind, JSON.stringify(volume)).toBe("review");
    }
  });
});
