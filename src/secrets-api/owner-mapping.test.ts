import { describe, expect, it } from "vitest";
import { isOwnerName, ownerOf } from "./owner-mapping.js";

describe("ownerOf", () => {
  it("takes the user name as is without a prefix", () => {
    expect(ownerOf("alice", { usernamePrefix: "" })).toEqual({
      kind: "owner",
      owner: "alice",
      storeId: "alice",
    });
    expect(ownerOf("org/alice", { usernamePrefix: "" })).toEqual({
      kind: "owner",
      owner: "org/alice",
      storeId: "org--alice",
    });
  });

  it("removes the configured prefix and refuses names without it", () => {
    const mapping = { usernamePrefix: "system:serviceaccount:apolo-users:" };
    expect(ownerOf("system:serviceaccount:apolo-users:bob", mapping)).toMatchObject({ owner: "bob" });
    expect(ownerOf("system:serviceaccount:kube-system:default", mapping)).toMatchObject({ kind: "refused" });
  });

  it("refuses names that cannot name a store", () => {
    for (const name of ["Alice", "a--b", "system:admin", "", "-x"]) {
      expect(ownerOf(name, { usernamePrefix: "" }).kind, name).toBe("refused");
    }
  });

  it("refuses names whose store name would not be a valid Secret name", () => {
    for (const name of ["a..b", "a.-b", "a-.b", ".a", "a.", "a/", "/a", "a//b", "a/-b", "a-/b", "a/.b"]) {
      expect(ownerOf(name, { usernamePrefix: "" }).kind, name).toBe("refused");
    }
    const longest = "a".repeat(238);
    expect(ownerOf(longest, { usernamePrefix: "" })).toMatchObject({ kind: "owner", storeId: longest });
    expect(ownerOf(`${longest}b`, { usernamePrefix: "" })).toMatchObject({ kind: "refused" });
    // Slashes become two characters in the store name.
    expect(ownerOf(`${"a/".repeat(80)}a`, { usernamePrefix: "" })).toMatchObject({ kind: "refused" });
  });

  it("bounds the user name it quotes in a refusal", () => {
    const answer = ownerOf(`${"x".repeat(100_000)}!`, { usernamePrefix: "" });
    expect(answer.kind).toBe("refused");
    if (answer.kind === "refused") expect(answer.message.length).toBeLessThan(500);
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
