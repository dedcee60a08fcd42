import { describe, expect, it } from "vitest";
import { ownerOf } from "./owner-mapping.js";

describe("ownerOf", () => {
  it("takes the user name as is without a prefix", () => {
    expect(ownerOf("alice", { usernamePrefixes: [""] })).toEqual({
      kind: "owner",
      owner: "alice",
      storeId: "alice",
    });
    expect(ownerOf("org/alice", { usernamePrefixes: [""] })).toEqual({
      kind: "owner",
      owner: "org/alice",
      storeId: "org--alice",
    });
  });

  it("removes the configured prefix and refuses names without it", () => {
    const mapping = { usernamePrefixes: ["system:serviceaccount:apolo-users:"] };
    expect(ownerOf("system:serviceaccount:apolo-users:bob", mapping)).toMatchObject({ owner: "bob" });
    expect(ownerOf("system:serviceaccount:kube-system:default", mapping)).toEqual({
      kind: "refused",
      message:
        "user 'system:serviceaccount:kube-system:default' is not a platform user (expected a name starting with 'system:serviceaccount:apolo-users:')",
    });
  });

  it("names every configured prefix when none applies, and takes names as they are when listed", () => {
    const both = { usernamePrefixes: ["system:serviceaccount:apolo-users:", "oidc:"] };
    expect(ownerOf("oidc:carol", both)).toMatchObject({ kind: "owner", owner: "carol" });
    expect(ownerOf("carol", both)).toEqual({
      kind: "refused",
      message:
        "user 'carol' is not a platform user (expected a name starting with 'system:serviceaccount:apolo-users:' or 'oidc:')",
    });
    const andAsIs = { usernamePrefixes: ["system:serviceaccount:apolo-users:", ""] };
    expect(ownerOf("carol", andAsIs)).toMatchObject({ kind: "owner", owner: "carol" });
    expect(ownerOf("system:serviceaccount:apolo-users:carol", andAsIs)).toMatchObject({ owner: "carol" });
    expect(ownerOf("system:serviceaccount:kube-system:default", andAsIs)).toEqual({
      kind: "refused",
      message:
        "user name 'system:serviceaccount:kube-system:default' cannot own secrets: lowercase letters, digits, '-', '.' and '/' only, each part between '/' starting and ending with a letter or digit, no '--', '.-', '-.' or '..'",
    });
  });

  it("refuses names that cannot name a store", () => {
    for (const name of ["Alice", "a--b", "system:admin", "", "-x"]) {
      expect(ownerOf(name, { usernamePrefixes: [""] }).kind, name).toBe("refused");
    }
  });

  it("refuses names whose store name would not be a valid Secret name", () => {
    for (const name of ["a..b", "a.-b", "a-.b", ".a", "a.", "a/", "/a", "a//b", "a/-b", "a-/b", "a/.b"]) {
      expect(ownerOf(name, { usernamePrefixes: [""] }).kind, name).toBe("refused");
    }
    const longest = "a".repeat(238);
    expect(ownerOf(longest, { usernamePrefixes: [""] })).toMatchObject({ kind: "owner", storeId: longest });
    expect(ownerOf(`${longest}b`, { usernamePrefixes: [""] })).toEqual({
      kind: "refused",
      message: `user name '${longest.slice(0, 100)}… (239 characters)' cannot own secrets: it is longer than the 238 characters a store name leaves`,
    });
    // Slashes become two characters in the store name.
    expect(ownerOf(`${"a/".repeat(80)}a`, { usernamePrefixes: [""] })).toMatchObject({ kind: "refused" });
  });

  it("bounds the user name it quotes in a refusal", () => {
    const answer = ownerOf(`${"x".repeat(100_000)}!`, { usernamePrefixes: [""] });
    expect(answer.kind).toBe("refused");
    if (answer.kind === "refused") expect(answer.message.length).toBeLessThan(500);
  });
});
