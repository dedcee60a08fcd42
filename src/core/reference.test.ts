import { describe, expect, it } from "vitest";
import { isValidSecretName, parseReference } from "./reference.js";

describe("parseReference (user scope)", () => {
  it("reads secret:KEY as the job owner's key", () => {
    expect(parseReference("secret:db_password", "user")).toEqual({
      kind: "ref",
      text: "secret:db_password",
      ownerPath: [],
      cluster: undefined,
      key: "db_password",
    });
  });

  it("reads secret:/OWNER/KEY, with a hierarchical owner", () => {
    expect(parseReference("secret:/alice/k", "user")).toMatchObject({ ownerPath: ["alice"], key: "k" });
    expect(parseReference("secret:/org/alice/k", "user")).toMatchObject({
      ownerPath: ["org", "alice"],
      key: "k",
    });
  });

  it("reads secret://CLUSTER/OWNER/KEY", () => {
    expect(parseReference("secret://prod/alice/k", "user")).toMatchObject({
      cluster: "prod",
      ownerPath: ["alice"],
      key: "k",
    });
  });

  it.each([
    ["secret:", "the secret name is empty"],
    ["secret:a/b", "a secret name cannot contain '/'"],
    ["secret:/k", "expected secret:/OWNER/KEY"],
    ["secret:/alice/", "the secret name is empty"],
    ["secret://prod/k", "expected secret://CLUSTER/OWNER/KEY"],
    ["secret:///alice/k", "the cluster name is empty"],
    ["secret://prod//k", "the owner is empty"],
    ["secret:/../k", "the owner '..' is not a valid name"],
    ["secret:has space", "breaks the rule"],
    ["secret:.", "breaks the rule"],
    ["secret:..x", "breaks the rule"],
  ])("refuses %s", (text, problem) => {
    const result = parseReference(text, "user");
    expect(result.kind).toBe("grammar-error");
    if (result.kind === "grammar-error") expect(result.problem).toContain(problem);
  });
});

describe("parseReference (project scope)", () => {
  it("reads secret:/PROJECT/KEY and secret://CLUSTER/ORG/PROJECT/KEY", () => {
    expect(parseReference("secret:/ml/k", "project")).toMatchObject({ ownerPath: ["ml"], key: "k" });
    expect(parseReference("secret://c/acme/ml/k", "project")).toMatchObject({
      cluster: "c",
      ownerPath: ["acme", "ml"],
      key: "k",
    });
  });

  it("refuses owner paths of the wrong length", () => {
    expect(parseReference("secret:/acme/ml/k", "project").kind).toBe("grammar-error");
    expect(parseReference("secret://c/ml/k", "project").kind).toBe("grammar-error");
  });
});

describe("isValidSecretName", () => {
  it("follows the platform's rule", () => {
    expect(isValidSecretName("a")).toBe(true);
    expect(isValidSecretName("A_b.c-1")).toBe(true);
    expect(isValidSecretName(".hidden")).toBe(true);
    expect(isValidSecretName("x".repeat(253))).toBe(true);
    expect(isValidSecretName("x".repeat(254))).toBe(false);
    expect(isValidSecretName("")).toBe(false);
    expect(isValidSecretName(".")).toBe(false);
    expect(isValidSecretName("..a")).toBe(false);
    expect(isValidSecretName("a/b")).toBe(false);
    expect(isValidSecretName("ключ")).toBe(false);
  });
});
