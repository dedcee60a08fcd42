import fastJsonPatch, { type Operation } from "fast-json-patch";
import { describe, expect, it } from "vitest";
import type { Pod } from "../admission/types.js";
import { toJsonPatch } from "./patch.js";
import { planInjection } from "./plan.js";
import { escapeSegment, pointer } from "./pointer.js";
import type { Policy } from "./policy.js";
import { MemorySecretIndex } from "./secret-index.js";
import { volumeNameFor } from "./volume-name.js";

const policy: Policy = {
  scope: "user",
  clusterName: undefined,
  trustedUsers: new Set(),
  trustedGroups: new Set(),
  trustedControllers: new Set(),
};

function patchFor(pod: Pod, keys: string[]): Operation[] {
  const index = new MemorySecretIndex();
  index.set("ns", "user--alice--secrets", keys);
  const plan = planInjection({ pod, namespace: "ns", mode: "create", submitter: undefined }, policy, index);
  if (plan.kind !== "plan") throw new Error(plan.message);
  return toJsonPatch(plan) as Operation[];
}

function apply(pod: Pod, patch: Operation[]): Pod {
  return fastJsonPatch.applyPatch(structuredClone(pod), structuredClone(patch), true, false).newDocument;
}

const labels = { "platform.apolo.us/user": "alice" };
const files = (entries: unknown[]) => ({ "platform.apolo.us/secret-volumes": JSON.stringify(entries) });

describe("toJsonPatch", () => {
  it("creates volumes and volumeMounts when absent, with one add per list", () => {
    const pod: Pod = {
      metadata: { labels, annotations: files(["secret:a:/x/a", "secret:b:/x/b"]) },
      spec: { containers: [{ name: "c" }] },
    };
    const patch = patchFor(pod, ["a", "b"]);
    expect(patch.map((op) => `${op.op} ${op.path}`)).toEqual([
      "add /spec/volumes",
      "add /spec/containers/0/volumeMounts",
    ]);
    const out = apply(pod, patch);
    expect(out.spec.containers[0]?.volumeMounts).toEqual([
      { name: "apolo-secrets-alice", mountPath: "/x/a", subPath: "a", readOnly: true },
      { name: "apolo-secrets-alice", mountPath: "/x/b", subPath: "b", readOnly: true },
    ]);
  });

  it("appends to lists that exist", () => {
    const pod: Pod = {
      metadata: { labels, annotations: files(["secret:a:/x/a"]) },
      spec: {
        containers: [{ name: "c", volumeMounts: [{ name: "d", mountPath: "/d" }] }],
        volumes: [{ name: "d", emptyDir: {} }],
      },
    };
    const patch = patchFor(pod, ["a"]);
    expect(patch.map((op) => `${op.op} ${op.path}`)).toEqual([
      "add /spec/volumes/-",
      "add /spec/containers/0/volumeMounts/-",
    ]);
    expect(apply(pod, patch).spec.volumes?.map((v) => v.name)).toEqual(["d", "apolo-secrets-alice"]);
  });

  it("replaces an env entry in place, keeping its name and position", () => {
    const pod: Pod = {
      metadata: { labels },
      spec: {
        containers: [
          {
            name: "c",
            env: [
              { name: "A", value: "1" },
              { name: "B", value: "secret:k" },
              { name: "C", value: "3" },
            ],
          },
        ],
      },
    };
    const out = apply(pod, patchFor(pod, ["k"]));
    expect(out.spec.containers[0]?.env).toEqual([
      { name: "A", value: "1" },
      { name: "B", valueFrom: { secretKeyRef: { name: "user--alice--secrets", key: "k" } } },
      { name: "C", value: "3" },
    ]);
  });

  it("emits nothing for a pod with nothing to resolve", () => {
    expect(patchFor({ metadata: { labels }, spec: { containers: [{ name: "c" }] } }, [])).toEqual([]);
  });
});

describe("pointer", () => {
  it("escapes ~ and / in segments (RFC 6901)", () => {
    expect(escapeSegment("a/b~c")).toBe("a~1b~0c");
    expect(pointer("metadata", "annotations", "platform.apolo.us/x")).toBe(
      "/metadata/annotations/platform.apolo.us~1x",
    );
  });
});

describe("volumeNameFor", () => {
  it("is readable when it fits a DNS label", () => {
    expect(volumeNameFor("alice")).toBe("apolo-secrets-alice");
  });

  it("stays within 63 characters and distinct for long or dotted owners", () => {
    const long = volumeNameFor("a".repeat(80));
    const other = volumeNameFor(`${"a".repeat(79)}b`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).not.toBe(other);
    expect(volumeNameFor("j.doe")).toMatch(/^apolo-secrets-j-doe-[0-9a-f]{8}$/);
  });
});
