import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type IdentityRule, isOwnerName, NAMES_AS_THEY_ARE, ownerOfUser, userIsOwner } from "./identity.js";
import { readOwner, submitterProblem } from "./owner.js";
import type { Policy } from "./policy.js";

const SA = "system:serviceaccount:apolo-users:";
const SA_ONLY: IdentityRule = { usernamePrefixes: [SA] };
const SA_AND_AS_IS: IdentityRule = { usernamePrefixes: [SA, ""] };

describe("ownerOfUser", () => {
  it("takes names as they are by default, with the store id in '--' form", () => {
    expect(ownerOfUser("alice", NAMES_AS_THEY_ARE)).toEqual({
      kind: "owner",
      owner: "alice",
      storeId: "alice",
    });
    expect(ownerOfUser("org/alice", NAMES_AS_THEY_ARE)).toEqual({
      kind: "owner",
      owner: "org/alice",
      storeId: "org--alice",
    });
  });

  it("removes a prefix, and says which rule a refused name breaks", () => {
    expect(ownerOfUser(`${SA}alice`, SA_ONLY)).toEqual({ kind: "owner", owner: "alice", storeId: "alice" });
    expect(ownerOfUser("alice", SA_ONLY)).toEqual({ kind: "no-prefix" });
    expect(ownerOfUser(`${SA}Alice`, SA_ONLY)).toEqual({ kind: "bad-name", name: "Alice" });
    expect(ownerOfUser(`${SA}${"a".repeat(239)}`, SA_ONLY)).toEqual({
      kind: "too-long",
      name: "a".repeat(239),
    });
  });

  it("with several prefixes and names as they are, reads each name by the one that applies, whatever the order", () => {
    for (const rule of [SA_AND_AS_IS, { usernamePrefixes: ["", "oidc:", SA] }]) {
      expect(ownerOfUser(`${SA}alice`, rule)).toMatchObject({ owner: "alice" });
      expect(ownerOfUser("alice", rule)).toMatchObject({ owner: "alice" });
      // Another namespace's service account is no prefix's: as it is, ':' is no owner's character.
      expect(ownerOfUser("system:serviceaccount:kube-system:default", rule).kind).toBe("bad-name");
    }
    expect(ownerOfUser("oidc:bob", { usernamePrefixes: ["", "oidc:", SA] })).toMatchObject({ owner: "bob" });
  });
});

describe("userIsOwner", () => {
  it("is the default rule: the user name is the owner's slash form, exactly", () => {
    expect(userIsOwner("alice", "alice", NAMES_AS_THEY_ARE)).toBe(true);
    expect(userIsOwner("org/alice", "org/alice", NAMES_AS_THEY_ARE)).toBe(true);
    for (const user of ["bob", "alic", "alicea", "org--alice", `${SA}alice`, ""])
      expect(userIsOwner(user, user === "org--alice" ? "org/alice" : "alice", NAMES_AS_THEY_ARE), user).toBe(
        false,
      );
  });

  it("maps a service account in the users' namespace to its owner, and nobody else to it", () => {
    expect(userIsOwner(`${SA}alice`, "alice", SA_ONLY)).toBe(true);
    expect(userIsOwner(`${SA}bob`, "alice", SA_ONLY)).toBe(false);
    // Without the prefix a name is nobody's: only trusted submitters act for others.
    expect(userIsOwner("alice", "alice", SA_ONLY)).toBe(false);
    expect(userIsOwner("system:serviceaccount:other:alice", "alice", SA_ONLY)).toBe(false);
    expect(userIsOwner("alice", "alice", SA_AND_AS_IS)).toBe(true);
    expect(userIsOwner(`${SA}alice`, "alice", SA_AND_AS_IS)).toBe(true);
  });

  it("refuses an owner the API could not have made a store for (a part starting with '-')", () => {
    // The label a---b reads as the owner a/-b: no user name stands for it.
    expect(userIsOwner("a/-b", "a/-b", NAMES_AS_THEY_ARE)).toBe(false);
  });

  it("compares a hostile user name in one pass", { timeout: 5_000 }, () => {
    const long = `${SA}${"a".repeat(2_000_000)}`;
    expect(userIsOwner(long, "a".repeat(2_000_000), SA_ONLY)).toBe(false);
    expect(userIsOwner(long, "alice", SA_AND_AS_IS)).toBe(false);
  });
});

// User names as the cluster's authenticators give them: a prefix (or none) and a tail that is
// often an owner name and sometimes not.
const ownerPart = fc.stringMatching(
  /^[a-z0-9]([a-z0-9.-]{0,6}[a-z0-9])?(\/[a-z0-9]([a-z0-9-]{0,4}[a-z0-9])?){0,2}$/,
);
const anyTail = fc.oneof(
  ownerPart,
  fc.string({ maxLength: 12 }),
  fc.constantFrom("a--b", "a/-b", "a..b", "A"),
);
const rules = fc.constantFrom<IdentityRule>(
  NAMES_AS_THEY_ARE,
  SA_ONLY,
  SA_AND_AS_IS,
  { usernamePrefixes: ["oidc:", SA] },
  { usernamePrefixes: ["", "oidc:"] },
);
const usernames = fc
  .tuple(fc.constantFrom("", SA, "oidc:", "system:serviceaccount:other:"), anyTail)
  .map(([prefix, tail]) => prefix + tail);

describe("one rule for the API and the webhook (properties)", () => {
  it("userIsOwner says yes exactly for the owner ownerOfUser gives", () => {
    fc.assert(
      fc.property(usernames, fc.oneof(ownerPart, anyTail), rules, (user, owner, rule) => {
        const mapped = ownerOfUser(user, rule);
        const expected = mapped.kind === "owner" && mapped.owner === owner;
        expect(userIsOwner(user, owner, rule)).toBe(expected);
        if (mapped.kind === "owner") expect(userIsOwner(user, mapped.owner, rule)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("the webhook admits a caller of the API as the owner of the pods labelled with its store id, and only those", () => {
    const policy = (rule: IdentityRule): Policy => ({
      scope: "user",
      clusterName: undefined,
      trustedUsers: new Set(),
      trustedGroups: new Set(),
      trustedControllers: new Set(),
      identity: rule,
    });
    fc.assert(
      fc.property(usernames, ownerPart, rules, (user, other, rule) => {
        const mapped = ownerOfUser(user, rule);
        if (mapped.kind !== "owner") return;
        const reading = readOwner({ "platform.apolo.us/user": mapped.storeId }, "user");
        if (reading.kind !== "owner") throw new Error(`label ${mapped.storeId}: ${JSON.stringify(reading)}`);
        expect(reading.owner.display).toBe(mapped.owner);
        expect(reading.owner.store).toBe(`user--${mapped.storeId}--secrets`);
        expect(submitterProblem({ username: user, groups: [] }, reading.owner, policy(rule))).toBeUndefined();
        const foreign = readOwner({ "platform.apolo.us/user": other.replaceAll("/", "--") }, "user");
        if (foreign.kind === "owner" && foreign.owner.display !== mapped.owner)
          expect(submitterProblem({ username: user, groups: [] }, foreign.owner, policy(rule))).toBeDefined();
      }),
      { numRuns: 2000 },
    );
  });
});

describe("isOwnerName", () => {
  it("accepts parts of lowercase letters, digits, '-' and '.' separated by '/'", () => {
    for (const name of ["a", "0", "alice", "a-b", "a.b", "a-b.c-d", "org/alice", "o1/p-2/x.y", "9z"]) {
      expect(isOwnerName(name), name).toBe(true);
    }
  });

  it("refuses everything else", () => {
    for (const name of [
      "",
      "A",
      "a_b",
      "a b",
      "a:b",
      "-a",
      "a-",
      "a--b",
      "a/",
      "/",
      "a//b",
      "é",
      "a\u0000",
    ]) {
      expect(isOwnerName(name), JSON.stringify(name)).toBe(false);
    }
  });

  it("reads adversarial long names in one pass", () => {
    // Each would make a backtracking pattern retry its middle part from every position.
    expect(isOwnerName(`a${"-a".repeat(500_000)}`)).toBe(true);
    expect(isOwnerName(`a${"a.".repeat(500_000)}!`)).toBe(false);
    expect(isOwnerName(`${"a/".repeat(500_000)}-`)).toBe(false);
    expect(isOwnerName(`${"a".repeat(1_000_000)}A`)).toBe(false);
  });
});
