// The question the project scope asks the cluster: one SubjectAccessReview per request, for the
// caller exactly as its TokenReview described it, about the project as an RBAC resource.

import { describe, expect, it } from "vitest";
import { projectResourceName, SubjectAccessReviewer } from "./project-access.js";
import { identityOf } from "./token-review.js";

interface Asked {
  method: string;
  path: string;
  body: unknown;
}

function reviewer(answer: (asked: Asked) => Promise<unknown>, maxInFlight?: number) {
  const asked: Asked[] = [];
  const api = {
    request: <T>(method: string, path: string, options: { body?: unknown } = {}): Promise<T> => {
      const one = { method, path, body: options.body };
      asked.push(one);
      return answer(one) as Promise<T>;
    },
  };
  return { asked, reviewer: new SubjectAccessReviewer(api, "platform-jobs", maxInFlight) };
}

const ALICE = { username: "alice", groups: ["platform-users", "system:authenticated"] };
const VISION = { org: "acme", project: "vision" };

describe("SubjectAccessReviewer", () => {
  it("asks verb, group, resource, name and namespace for the caller's user, groups, uid and extra", async () => {
    const { asked, reviewer: access } = reviewer(async () => ({ status: { allowed: true } }));
    const identity = { ...ALICE, uid: "u-1", extra: { scopes: ["a", "b"] } };
    expect(await access.allowed(identity, VISION, "update")).toBe(true);
    expect(asked).toEqual([
      {
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: "alice",
            groups: ["platform-users", "system:authenticated"],
            uid: "u-1",
            extra: { scopes: ["a", "b"] },
            resourceAttributes: {
              namespace: "platform-jobs",
              group: "secrets.apolo.us",
              resource: "projects",
              name: "acme--vision",
              verb: "update",
            },
          },
        },
      },
    ]);
  });

  it("allows only on an explicit allowed: true", async () => {
    for (const [status, expected] of [
      [{ allowed: true }, true],
      [{ allowed: false, denied: true }, false],
      [{ allowed: false }, false],
      [{}, false],
      [undefined, false],
    ] as const) {
      const { reviewer: access } = reviewer(async () => ({ status }));
      expect(await access.allowed(ALICE, VISION, "get"), JSON.stringify(status)).toBe(expected);
    }
  });

  it("passes on the API server's failure, and bounds the reviews in flight", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { reviewer: access } = reviewer(async () => {
      await held;
      return { status: { allowed: true } };
    }, 2);
    const first = access.allowed(ALICE, VISION, "get");
    const second = access.allowed(ALICE, VISION, "get");
    await expect(access.allowed(ALICE, VISION, "get")).rejects.toThrow("too many access reviews in flight");
    release();
    expect(await Promise.all([first, second])).toEqual([true, true]);
    // The slots are free again once the answers came.
    expect(await access.allowed(ALICE, VISION, "get")).toBe(true);
    const { reviewer: down } = reviewer(() => Promise.reject(new Error("connection refused")));
    await expect(down.allowed(ALICE, VISION, "get")).rejects.toThrow("connection refused");
  });

  it("words the permission for a refusal: names only", () => {
    const { reviewer: access } = reviewer(async () => ({}));
    expect(access.permission(VISION, "get")).toBe(
      "'get' on projects.secrets.apolo.us 'acme--vision' in namespace 'platform-jobs'",
    );
    expect(projectResourceName({ org: "o", project: "p" })).toBe("o--p");
  });
});

describe("identityOf (a TokenReview's user)", () => {
  it("keeps user, groups, uid and the extra lists of strings, with any key as data", () => {
    const user = JSON.parse(
      '{"username": "alice", "groups": ["g"], "uid": "u-9", "extra": {"__proto__": ["x"], "scopes": ["a"], "bad": [1], "worse": "s"}}',
    ) as Parameters<typeof identityOf>[0];
    const identity = identityOf(user);
    expect(identity).toMatchObject({ username: "alice", groups: ["g"], uid: "u-9" });
    expect(Object.keys(identity?.extra ?? {}).sort()).toEqual(["__proto__", "scopes"]);
    expect(Object.hasOwn(identity?.extra ?? {}, "__proto__")).toBe(true);
    expect(identityOf({ username: "bob" })).toEqual({ username: "bob", groups: [] });
    expect(identityOf({ groups: ["g"] })).toBeUndefined();
  });
});
