// Holes an attacker review found (issue 9), unit level. Each test fails on the code it was written
// against and says what a fix must make true.
//
// - the admission log line carries the pod's name as sent. Mutating admission runs before
// the API server validates the name (at most 253 characters), so a dry-run create with a 2 MB
// name writes a 2 MB log line (seen through the real API server: the webhook's log grew by
// 2,000,270 bytes for one `kubectl create --dry-run=server`). Log volume is then the attacker's to
// choose, at the rate they can send requests.
//
// - the refusal for a file entry naming an unknown container lists every container of the
// pod, once per such entry: N entries and C containers make a message of N*C names. 3,000 entries
// and 3,000 containers (a 300 KB pod) make a 78 MB message (and about 350 MB of RSS).
//
// - worse, each duplicate mount's message quotes both entries whole, and an entry may list
// every container: E entries of K containers at one mountPath make E*K messages of K names each.
// 20 entries of 1,000 containers (a 231 KB pod) make a 265 MB message; through the API server
// (alice, --dry-run=server) the webhook went to 626 MB of RSS, timed out, and died of OOM.
//
// Finding 8 (low): odd JSON a direct caller can send (the API server never does): an env var with
// "value": null reaches isReference(null) and is answered 500 "failed to process" with an error
// log, and "metadata": null throws while the answer is logged (a bare HTTP 500). The README
// promises a 400 naming the path for a wrong shape (or null read as absent, as elsewhere).
//
// Finding 7 (low): in the user scope the owner label 'a--b' is the hierarchical owner 'a/b' (store
// user--a--b--secrets), and submitterProblem accepts a submitter whose user name is either 'a/b'
// or 'a--b'. The secrets API refuses 'a--b' as an owner name ("no '--'": it separates parts), so a
// Kubernetes user literally named 'a--b' (possible with OIDC or static tokens) is not an owner
// anywhere else, yet may submit pods for 'a/b' and use its secrets.

import { describe, expect, it } from "vitest";
import { readOwner, submitterProblem } from "../../src/core/owner.js";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { createLogger } from "../../src/lifecycle/logger.js";
import { createReviewHandler, type HandledReview } from "../../src/server/review-handler.js";
import { CASE_NAMESPACE, type JsonObject } from "../cases/cases.js";
import { casePolicy, reviewFor } from "../support/replay.js";

function handlerWithLog(lines: string[]) {
  const index = new MemorySecretIndex();
  index.set(CASE_NAMESPACE, "user--alice--secrets", ["k"]);
  return createReviewHandler({
    policy: casePolicy(),
    index,
    refresh: undefined,
    logger: createLogger("info", (line) => lines.push(line)),
    metrics: undefined,
  });
}

function message(answer: HandledReview | Promise<HandledReview>): string {
  if (answer instanceof Promise) throw new Error("expected a synchronous answer");
  const body = answer.body as { response?: { status?: { message?: string } } };
  return body.response?.status?.message ?? "";
}

describe("hostile input: bounded output", () => {
  it("a 1 MB pod name (not yet validated by the API server) does not make a 1 MB log line", () => {
    const lines: string[] = [];
    const handle = handlerWithLog(lines);
    const pod: JsonObject = {
      metadata: { name: "a".repeat(1_000_000), labels: { "platform.apolo.us/user": "alice" } },
      spec: { containers: [{ name: "c", image: "x", env: [{ name: "A", value: "secret:k" }] }] },
    };
    handle(reviewFor(pod, "uid-1", { username: "alice", groups: [] }));
    expect(lines).toHaveLength(1);
    expect((lines[0] as string).length).toBeLessThan(4096);
  });

  it("entries naming an unknown container do not make a message of entries x containers", () => {
    const lines: string[] = [];
    const handle = handlerWithLog(lines);
    const entries = Array.from({ length: 1000 }, (_, i) => ({
      uri: "secret:k",
      mountPath: `/s/${i}`,
      containers: ["nope"],
    }));
    const pod: JsonObject = {
      metadata: {
        name: "p",
        labels: { "platform.apolo.us/user": "alice" },
        annotations: { "platform.apolo.us/secret-volumes": JSON.stringify(entries) },
      },
      spec: { containers: Array.from({ length: 1000 }, (_, i) => ({ name: `c${i}`, image: "x" })) },
    };
    const text = message(handle(reviewFor(pod, "uid-1", { username: "alice", groups: [] })));
    expect(text).toContain("names container 'nope'");
    // The pod is about 100 KB; its refusal should not be larger than the pod.
    expect(text.length).toBeLessThan(100_000);
  });
});

describe("hostile input: bounded output (2)", () => {
  it("entries at one path listing every container do not make a message of entries x containers^2", () => {
    const handle = handlerWithLog([]);
    const names = Array.from({ length: 500 }, (_, i) => `c${i}`);
    const entries = Array.from({ length: 10 }, () => ({
      uri: "secret:k",
      mountPath: "/same",
      containers: names,
    }));
    const pod: JsonObject = {
      metadata: {
        name: "p",
        labels: { "platform.apolo.us/user": "alice" },
        annotations: { "platform.apolo.us/secret-volumes": JSON.stringify(entries) },
      },
      spec: { containers: names.map((name) => ({ name, image: "x" })) },
    };
    expect(JSON.stringify(pod).length).toBeLessThan(100_000);
    const text = message(handle(reviewFor(pod, "uid-1", { username: "alice", groups: [] })));
    expect(text).toContain("Two mounts at '/same'");
    expect(text.length).toBeLessThan(100_000);
  });
});

describe("hostile input: odd JSON", () => {
  it("env value null is read as absent or refused 400, never an internal error", () => {
    const lines: string[] = [];
    const handle = handlerWithLog(lines);
    const pod: JsonObject = {
      metadata: { name: "p", labels: { "platform.apolo.us/user": "alice" } },
      spec: { containers: [{ name: "c", image: "x", env: [{ name: "A", value: null }] }] },
    };
    const answer = handle(reviewFor(pod, "uid-1", { username: "alice", groups: [] }));
    if (answer instanceof Promise) throw new Error("expected a synchronous answer");
    const response = (answer.body as { response?: { allowed: boolean; status?: { code?: number } } })
      .response;
    expect(response?.allowed === true || response?.status?.code === 400, JSON.stringify(answer.body)).toBe(
      true,
    );
  });
});

describe("hostile input: owner names", () => {
  it("a user named 'a--b' may not submit for the hierarchical owner 'a/b'", () => {
    const reading = readOwner({ "platform.apolo.us/user": "a--b" }, "user");
    if (reading.kind !== "owner") throw new Error("expected an owner");
    expect(reading.owner.display).toBe("a/b");
    expect(submitterProblem({ username: "a/b", groups: [] }, reading.owner, casePolicy())).toBeUndefined();
    expect(submitterProblem({ username: "a--b", groups: [] }, reading.owner, casePolicy())).toBeDefined();
  });
});

describe("hostile input: odd JSON (2)", () => {
  it("metadata null is read as absent (the pod has no owner), never a bare 500", () => {
    const handle = handlerWithLog([]);
    const pod: JsonObject = {
      metadata: null,
      spec: { containers: [{ name: "c", image: "x", env: [{ name: "A", value: "secret:k" }] }] },
    };
    const answer = handle(reviewFor(pod, "uid-1", { username: "alice", groups: [] }));
    if (answer instanceof Promise) throw new Error("expected a synchronous answer");
    expect(answer.status).toBe(200);
    expect(message(answer)).toContain("but has no owner");
  });
});

describe("hostile input: the ephemeral-containers subresource (unit)", () => {
  const ownerLabel = "platform.apolo.us/user";
  function ephemeral(sent: JsonObject, stored: JsonObject | null): JsonObject {
    const review = reviewFor(sent, "uid-1", { username: "alice", groups: [] });
    const request = review.request as JsonObject;
    return {
      ...review,
      request: { ...request, operation: "UPDATE", subResource: "ephemeralcontainers", oldObject: stored },
    };
  }
  const debug = { name: "debug", image: "x", volumeMounts: [{ name: "bobs", mountPath: "/x" }] };
  const stored: JsonObject = {
    metadata: { name: "p", labels: { [ownerLabel]: "bob" } },
    spec: {
      containers: [{ name: "c", image: "x" }],
      volumes: [{ name: "bobs", secret: { secretName: "user--bob--secrets" } }],
    },
  };

  it("reads the owner from oldObject, not from the relabelled pod the user sent", () => {
    const sent: JsonObject = {
      metadata: { name: "p", labels: { [ownerLabel]: "alice" } },
      spec: { containers: [{ name: "c", image: "x" }], volumes: [], ephemeralContainers: [debug] },
    };
    const answer = handlerWithLog([])(ephemeral(sent, stored));
    expect(message(answer)).toBe(
      "'alice' may not submit a job for owner 'bob': only the owner or a trusted submitter may create pods labelled for it",
    );
  });

  it("refuses the update with a 400 when oldObject is missing", () => {
    const sent: JsonObject = {
      ...stored,
      spec: { ...(stored.spec as JsonObject), ephemeralContainers: [debug] },
    };
    const answer = handlerWithLog([])(ephemeral(sent, null));
    if (answer instanceof Promise) throw new Error("expected a synchronous answer");
    const status = (answer.body as { response?: { status?: { code?: number } } }).response?.status;
    expect(status?.code).toBe(400);
    expect(message(answer)).toContain("carries no oldObject");
  });
});

describe("hostile input: bounded output (3)", () => {
  it("a direct caller's megabyte uid, namespace and subresource do not make a megabyte log line", () => {
    const lines: string[] = [];
    const handle = handlerWithLog(lines);
    const pod: JsonObject = { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "x" }] } };
    const big = "n".repeat(1_000_000);
    const review = reviewFor(pod, `u${big}`, { username: "alice", groups: [] }, big);
    const request = review.request as JsonObject;
    handle({ ...review, request: { ...request, subResource: big } });
    expect(lines).toHaveLength(1);
    expect((lines[0] as string).length).toBeLessThan(4096);
  });
});
