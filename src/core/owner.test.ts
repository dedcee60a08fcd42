import { describe, expect, it } from "vitest";
import { type Owner, readOwner, storeOwner, submitterProblem } from "./owner.js";
import type { Policy } from "./policy.js";

const policy: Policy = {
  scope: "user",
  clusterName: undefined,
  trustedUsers: new Set(["platform"]),
  trustedGroups: new Set(["submitters"]),
  trustedControllers: new Set(),
};

function owner(labels: Record<string, string>, scope: "user" | "project" = "user"): Owner {
  const reading = readOwner(labels, scope);
  if (reading.kind !== "owner") throw new Error(`no owner: ${JSON.stringify(reading)}`);
  return reading.owner;
}

describe("readOwner", () => {
  it("names the per-user store after the label, with / written as --", () => {
    expect(owner({ "platform.apolo.us/user": "org--alice" })).toMatchObject({
      id: "org--alice",
      display: "org/alice",
      store: "user--org--alice--secrets",
    });
  });

  it("accepts both label prefixes when they agree and refuses when they differ", () => {
    expect(owner({ "platform.apolo.us/user": "a", "platform.neuromation.io/user": "a" }).id).toBe("a");
    expect(
      readOwner({ "platform.apolo.us/user": "a", "platform.neuromation.io/user": "b" }, "user").kind,
    ).toBe("invalid");
  });

  it("refuses owner values that cannot name a Secret", () => {
    expect(readOwner({ "platform.apolo.us/user": "Alice" }, "user").kind).toBe("invalid");
    expect(readOwner({ "platform.apolo.us/user": "" }, "user").kind).toBe("invalid");
  });

  it("reports no owner when no label is set", () => {
    expect(readOwner({ app: "x" }, "user")).toEqual({ kind: "none" });
    expect(readOwner({ "platform.apolo.us/user": "alice" }, "project")).toEqual({ kind: "none" });
  });

  it("needs both org and project in the project scope", () => {
    expect(
      owner({ "platform.apolo.us/org": "acme", "platform.apolo.us/project": "ml" }, "project").store,
    ).toBe("project--acme--ml--secrets");
    expect(readOwner({ "platform.apolo.us/project": "ml" }, "project").kind).toBe("invalid");
  });
});

describe("storeOwner", () => {
  it("recognises store names and nothing else", () => {
    expect(storeOwner("user--alice--secrets")).toBe("alice");
    expect(storeOwner("user--org--alice--secrets")).toBe("org/alice");
    expect(storeOwner("project--acme--ml--secrets")).toBe("acme/ml");
    expect(storeOwner("alice-secrets")).toBeUndefined();
    expect(storeOwner("user--secrets")).toBeUndefined();
  });
});

describe("submitterProblem", () => {
  const alice = owner({ "platform.apolo.us/user": "alice" });
  it("lets the owner, trusted users and trusted groups submit", () => {
    expect(submitterProblem({ username: "alice", groups: [] }, alice, policy)).toBeUndefined();
    expect(submitterProblem({ username: "platform", groups: [] }, alice, policy)).toBeUndefined();
    expect(submitterProblem({ username: "x", groups: ["submitters"] }, alice, policy)).toBeUndefined();
  });

  it("refuses anyone else, naming both", () => {
    expect(submitterProblem({ username: "bob", groups: ["system:authenticated"] }, alice, policy)).toMatch(
      /^'bob' may not submit a job for owner 'alice'/,
    );
  });
});
