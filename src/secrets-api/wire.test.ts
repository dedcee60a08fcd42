// The wire format's field rules, pure: org and project names (they become part of a store's name
// and a pod's label values), and how absent, null, empty, repeated and non-string fields are read.

import { describe, expect, it } from "vitest";
import { HttpError } from "./http-error.js";
import { isPlaceName, PLACE_NAME_RULE, placementOfBody, placementOfQuery, secretEntry } from "./wire.js";

describe("isPlaceName", () => {
  it.each(["a", "acme", "ml-team", "v1.2", "0", "a".repeat(63), "a-b.c-d"])("accepts %j", (name) => {
    expect(isPlaceName(name)).toBe(true);
  });

  it.each([
    "",
    "a".repeat(64),
    "Acme",
    "a_b",
    "a--b",
    "a..b",
    "a.-b",
    "a-.b",
    "-a",
    "a-",
    ".a",
    "a.",
    "a/b",
    "a b",
    "ä",
    "a\u0000",
  ])("refuses %j", (name) => {
    expect(isPlaceName(name)).toBe(false);
  });

  it("refuses a megabyte of text (bounded before it is scanned to the end)", () => {
    expect(isPlaceName("a".repeat(1_000_000))).toBe(false);
    expect(isPlaceName(`${"a-".repeat(500_000)}a`)).toBe(false);
  });
});

describe("placementOfBody and placementOfQuery", () => {
  it("reads absent, null and empty as none", () => {
    expect(placementOfBody({})).toEqual({ org: null, project: null });
    expect(placementOfBody({ org_name: null, project_name: "" })).toEqual({ org: null, project: null });
    expect(placementOfQuery(undefined)).toEqual({ org: null, project: null });
    expect(placementOfQuery({ org_name: "acme", project_name: "vision" })).toEqual({
      org: "acme",
      project: "vision",
    });
  });

  it("reads own fields only", () => {
    const inherited = Object.create({ org_name: "acme" }) as object;
    expect(placementOfBody(inherited)).toEqual({ org: null, project: null });
    expect(placementOfBody(JSON.parse('{"__proto__": {"project_name": "p"}}') as object)).toEqual({
      org: null,
      project: null,
    });
  });

  it("refuses a repeated query field, a non-string and a bad name, naming the field and the rule", () => {
    const repeated = placementOfQuery({ org_name: ["a", "b"] });
    expect(repeated).toBeInstanceOf(HttpError);
    expect((repeated as HttpError).message).toBe("give org_name once: it names one org or project");
    expect((placementOfBody({ project_name: true }) as HttpError).message).toBe(
      "project_name must be a string or null",
    );
    const bad = placementOfBody({ org_name: "ok", project_name: "Bad Name" }) as HttpError;
    expect(bad.status).toBe(400);
    expect(bad.message).toBe(`invalid project_name "Bad Name": ${PLACE_NAME_RULE}`);
  });
});

describe("secretEntry", () => {
  it("has exactly the platform's four fields", () => {
    expect(secretEntry("k", { org: "acme", project: null }, "alice")).toEqual({
      key: "k",
      org_name: "acme",
      project_name: null,
      owner: "alice",
    });
  });
});
