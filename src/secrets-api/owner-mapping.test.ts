import { describe, expect, it } from "vitest";
import { ownerOf } from "./owner-mapping.js";

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
});
