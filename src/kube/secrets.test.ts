import { describe, expect, it } from "vitest";
import { secretPath, secretsPath } from "./secrets.js";

describe("Secret paths", () => {
  it("names the Secrets of one namespace or of all", () => {
    expect(secretsPath("jobs")).toBe("/api/v1/namespaces/jobs/secrets");
    expect(secretsPath("")).toBe("/api/v1/secrets");
    expect(secretsPath()).toBe("/api/v1/secrets");
  });

  it("path-encodes names and namespaces, and refuses a Secret without a namespace", () => {
    expect(secretPath("jobs", "user--a--secrets")).toBe("/api/v1/namespaces/jobs/secrets/user--a--secrets");
    expect(secretPath("a/b", "x/../y?z")).toBe("/api/v1/namespaces/a%2Fb/secrets/x%2F..%2Fy%3Fz");
    expect(() => secretPath("", "tls")).toThrow("the Secret 'tls' needs a namespace");
  });
});
