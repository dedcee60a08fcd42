// Hostile pods: inputs that once took quadratic time, every bound refused with a 422 naming it,
// and refusal messages that stay small whatever the pod holds. An input that used to hang fails
// here by the test timeout; nothing asserts a duration.

import fastJsonPatch, { type Operation } from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { decodeReview } from "../../src/admission/decode.js";
import { admit } from "../../src/core/admit.js";
import { mountPathProblem, SECRET_VOLUMES_ANNOTATION } from "../../src/core/file-requests.js";
import { LIMITS } from "../../src/core/limits.js";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { createLogger } from "../../src/lifecycle/logger.js";
import { createReviewHandler } from "../../src/server/review-handler.js";
import { CASE_NAMESPACE, type JsonObject } from "../cases/cases.js";
import { casePolicy, reviewFor } from "../support/replay.js";

const ALICE = { username: "alice", groups: [] };
const STORE = "user--alice--secrets";

interface Answer {
  allowed: boolean;
  code?: number;
  message: string;
  patch: Operation[];
}

function podOf(options: {
  annotation?: string;
  containers?: JsonObject[];
  labels?: Record<string, string>;
}): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "hostile",
      labels: options.labels ?? { "platform.apolo.us/user": "alice" },
      ...(options.annotation === undefined
        ? {}
        : { annotations: { [SECRET_VOLUMES_ANNOTATION]: options.annotation } }),
    },
    spec: { containers: options.containers ?? [{ name: "main", image: "img" }] },
  };
}

function answer(pod: JsonObject, keys: readonly string[] = ["k"]): Answer {
  const index = new MemorySecretIndex();
  index.set(CASE_NAMESPACE, STORE, keys);
  const decoded = decodeReview(reviewFor(pod, "uid-hostile", ALICE));
  if (decoded.kind !== "review") throw new Error(decoded.message);
  const { verdict } = admit(decoded.request, casePolicy(), index);
  return verdict.allowed
    ? { allowed: true, message: "", patch: verdict.patch as Operation[] }
    : { allowed: false, code: verdict.code, message: verdict.message, patch: [] };
}

const slashes = (count: number) => "/".repeat(count);

describe("inputs that used to take quadratic time", () => {
  it("refuses the 150,000-slash mount path of the report with the mount-path bound", () => {
    const got = answer(podOf({ annotation: JSON.stringify([`secret:k:${slashes(150_000)}a`]) }));
    expect(got.allowed).toBe(false);
    expect(got.code).toBe(422);
    expect(got.message).toBe(
      `Invalid mount path '${slashes(100)}…' in annotation ${SECRET_VOLUMES_ANNOTATION}, entry 0: it is 150001 characters long, more than the limit of ${LIMITS.mountPathChars} for a mount path`,
    );
  });

  it("answers a 250,000-slash mount path (the old trailing-slash pattern took about 20 s on it)", () => {
    const got = answer(podOf({ annotation: JSON.stringify([`secret:k:${slashes(250_000)}a`]) }));
    expect(got.code).toBe(422);
    expect(got.message).toContain("more than the limit of 4096 for a mount path");
  });

  it("finds the file in a slash run just under the bound, and refuses a path of slashes only", () => {
    expect(mountPathProblem(`${slashes(LIMITS.mountPathChars - 1)}a`)).toBeUndefined();
    expect(mountPathProblem(slashes(LIMITS.mountPathChars))).toBe("it must name a file, not '/'");
    expect(mountPathProblem(`${slashes(300_000)}a`)).toBe(
      `it is 300001 characters long, more than the limit of ${LIMITS.mountPathChars} for a mount path`,
    );
  });

  it("mounts a long slash run that is within the bound, and the patch applies", () => {
    const pod = podOf({ annotation: JSON.stringify([`secret:k:${slashes(4000)}f`]) });
    const got = answer(pod);
    expect(got.allowed).toBe(true);
    const patched = fastJsonPatch.applyPatch(structuredClone(pod), got.patch, true, false).newDocument;
    expect(JSON.stringify(patched)).toContain(`"mountPath":"${slashes(4000)}f"`);
  });

  it("reinvocation over a container with 50,000 mounts and 1,000 secret files changes nothing", () => {
    const mounts = Array.from({ length: 50_000 }, (_, i) => ({ name: "data", mountPath: `/d/${i}` }));
    const entries = Array.from({ length: 1000 }, (_, i) => `secret:k:/s/${i}`);
    const pod = podOf({
      annotation: JSON.stringify(entries),
      containers: [{ name: "main", image: "img", volumeMounts: mounts }],
    });
    const first = answer(pod);
    expect(first.allowed).toBe(true);
    expect(first.patch).toHaveLength(1001);
    const patched = fastJsonPatch.applyPatch(structuredClone(pod), first.patch, true, false)
      .newDocument as JsonObject;
    const second = answer(patched);
    expect(second).toEqual({ allowed: true, message: "", patch: [] });
  });
});

describe("bounds, each refused with a 422 naming it", () => {
  it("refuses a reference longer than the reference bound", () => {
    const value = `secret:${"a".repeat(2000)}`;
    const got = answer(podOf({ containers: [{ name: "main", env: [{ name: "A", value }] }] }));
    expect(got.code).toBe(422);
    expect(got.message).toBe(
      `Invalid secret reference '${value.slice(0, 100)}…' in env A of container 'main': it is 2007 characters long, more than the limit of ${LIMITS.referenceChars} for a reference; use secret:KEY, secret:/OWNER/KEY or secret://CLUSTER/OWNER/KEY`,
    );
  });

  it("refuses a reference with a 100,000-segment owner path by the reference bound", () => {
    const value = `secret:/${"a/".repeat(100_000)}k`;
    const got = answer(podOf({ containers: [{ name: "main", env: [{ name: "A", value }] }] }));
    expect(got.code).toBe(422);
    expect(got.message).toContain(
      `it is ${value.length} characters long, more than the limit of 1024 for a reference`,
    );
  });

  it("accepts the longest reference a store can hold", () => {
    const value = `secret:/alice/${"k".repeat(253)}`;
    const got = answer(podOf({ containers: [{ name: "main", env: [{ name: "A", value }] }] }), [
      "k".repeat(253),
    ]);
    expect(got.allowed).toBe(true);
  });

  it("refuses an annotation larger than the API server allows for all annotations", () => {
    const annotation = JSON.stringify([`secret:k:/f`, "x".repeat(300_000)]);
    const got = answer(podOf({ annotation }));
    expect(got.code).toBe(422);
    expect(got.message).toBe(
      `Invalid annotation ${SECRET_VOLUMES_ANNOTATION}: it is ${annotation.length} characters long, more than the limit of ${LIMITS.annotationChars} (the API server's own limit for all annotations together)`,
    );
  });

  it("refuses an annotation with more entries than the entry bound", () => {
    const entries = Array.from({ length: LIMITS.annotationEntries + 1 }, (_, i) => `secret:k:/f/${i}`);
    const got = answer(podOf({ annotation: JSON.stringify(entries) }));
    expect(got.code).toBe(422);
    expect(got.message).toBe(
      `Invalid annotation ${SECRET_VOLUMES_ANNOTATION}: it has 1001 entries, more than the limit of ${LIMITS.annotationEntries}`,
    );
  });

  it("refuses more mounts (entries × containers) than the mount bound", () => {
    const entries = Array.from({ length: 200 }, (_, i) => `secret:k:/f/${i}`);
    const containers = Array.from({ length: 60 }, (_, i) => ({ name: `c${i}`, image: "img" }));
    const got = answer(podOf({ annotation: JSON.stringify(entries), containers }));
    expect(got.code).toBe(422);
    expect(got.message).toBe(
      `Too many secret files: the annotation ${SECRET_VOLUMES_ANNOTATION} asks for 12000 mounts (entries × their containers), more than the limit of ${LIMITS.fileMounts}`,
    );
  });
});

describe("refusal messages stay small", () => {
  it("spells out the first problems of 100,000 malformed references and counts the rest", () => {
    const env = Array.from({ length: 100_000 }, (_, i) => ({ name: `E${i}`, value: "secret:a/b" }));
    const got = answer(podOf({ containers: [{ name: "main", env }] }));
    expect(got.code).toBe(422);
    const parts = got.message.split("; ");
    expect(parts[0]).toBe(
      "Invalid secret reference 'secret:a/b' in env E0 of container 'main': a secret name cannot contain '/'",
    );
    expect(got.message.endsWith("; and 99980 more problems")).toBe(true);
    expect(got.message.length).toBeLessThan(8 * 1024);
  });

  it("quotes at most 100 characters of user text", () => {
    const name = "N".repeat(1_000_000);
    const value = `secret:${"x".repeat(500)}/k`;
    const got = answer(podOf({ containers: [{ name: "main", env: [{ name, value }] }] }));
    expect(got.code).toBe(422);
    expect(got.message).toContain(`'${value.slice(0, 100)}…'`);
    expect(got.message).toContain(`${"N".repeat(100)}…`);
    expect(got.message.length).toBeLessThan(1024);
  });

  it("lists the first 20 missing keys, sorted, and counts the rest", () => {
    const keys = Array.from({ length: 500 }, (_, i) => `k${String(i).padStart(3, "0")}`);
    const env = keys.map((key, i) => ({ name: `E${i}`, value: `secret:${key}` }));
    const got = answer(podOf({ containers: [{ name: "main", env }] }), []);
    expect(got.code).toBe(422);
    const shown = keys
      .slice(0, 20)
      .map((key) => `'${key}'`)
      .join(", ");
    expect(got.message).toBe(`Missing secrets: ${shown}, and 480 more`);
  });

  it("keeps the exact message for a few missing keys", () => {
    const env = [
      { name: "B", value: "secret:b" },
      { name: "A", value: "secret:a" },
    ];
    expect(answer(podOf({ containers: [{ name: "main", env }] }), []).message).toBe(
      "Missing secrets: 'a', 'b'",
    );
  });

  it("names 20 of 10,000 containers when an entry names an unknown one", () => {
    const containers = Array.from({ length: 10_000 }, (_, i) => ({ name: `c${i}`, image: "img" }));
    const entry = { uri: "secret:k", mountPath: "/f", containers: ["nope"] };
    const got = answer(podOf({ annotation: JSON.stringify([entry]), containers }));
    expect(got.code).toBe(422);
    expect(got.message).toMatch(/\(its containers: 'c0', 'c1', .*'c19', and 9980 more\)$/);
  });

  it("clips a megabyte owner label in the refusal", () => {
    const got = answer(podOf({ labels: { "platform.apolo.us/user": `A${"a".repeat(1_000_000)}` } }));
    expect(got.code).toBe(403);
    expect(got.message).toBe(
      `Cannot tell this job's owner: the owner label platform.apolo.us/user='A${"a".repeat(99)}…' is not a valid owner name (lowercase letters, digits, '-', '.')`,
    );
  });
});

describe("the review handler on hostile reviews", () => {
  function handlerWithLog() {
    const lines: string[] = [];
    const handler = createReviewHandler({
      policy: casePolicy(),
      index: new MemorySecretIndex(),
      refresh: undefined,
      logger: createLogger("info", (line) => lines.push(line)),
      metrics: undefined,
    });
    return { handler, lines };
  }

  it("logs at most 253 characters of a megabyte pod name", () => {
    const { handler, lines } = handlerWithLog();
    const pod = podOf({});
    (pod.metadata as { name: string }).name = "p".repeat(1_000_000);
    const handled = handler(reviewFor(pod, "uid-long-name", ALICE));
    expect(handled).toMatchObject({ status: 200, body: { response: { allowed: true } } });
    const logged = JSON.parse(lines[0] ?? "{}") as { pod?: string };
    expect(logged.pod).toBe(`${"p".repeat(253)}…`);
  });

  it("clips a decode error that quotes a megabyte label key", () => {
    const { handler } = handlerWithLog();
    const pod = podOf({ labels: { ["k".repeat(1_000_000)]: 5 as unknown as string } });
    const handled = handler(reviewFor(pod, "uid-long-key", ALICE)) as {
      body: { response: { status: { code: number; message: string } } };
    };
    expect(handled.body.response.status.code).toBe(400);
    expect(handled.body.response.status.message).toBe(
      `Invalid AdmissionReview: request.object.metadata.labels.${"k".repeat(1000 - "request.object.metadata.labels.".length)}…`,
    );
  });
});
