import { describe, expect, it } from "vitest";
import { MemorySecretIndex } from "./secret-index.js";

const BUILT_IN_NAMES = ["__proto__", "constructor", "hasOwnProperty", "toString", "valueOf"];

describe("MemorySecretIndex", () => {
  it("holds key names of built-in object properties as plain names", () => {
    const index = new MemorySecretIndex();
    index.set("jobs", "user--alice--secrets", ["__proto__", "constructor"]);
    const keys = index.keysOf("jobs", "user--alice--secrets");
    expect([...(keys ?? [])].sort()).toEqual(["__proto__", "constructor"]);
    for (const name of ["hasOwnProperty", "toString", "valueOf"]) expect(keys?.has(name), name).toBe(false);
    expect(index.keyCount).toBe(2);
  });

  it("knows no store or namespace named like a built-in property unless one was set", () => {
    const index = new MemorySecretIndex();
    for (const name of BUILT_IN_NAMES) {
      expect(index.keysOf(name, name), name).toBeUndefined();
      expect(index.keysOf("jobs", name), name).toBeUndefined();
    }
    index.set("__proto__", "constructor", ["toString"]);
    expect([...(index.keysOf("__proto__", "constructor") ?? [])]).toEqual(["toString"]);
    index.clearNamespace("__proto__");
    expect(index.keysOf("__proto__", "constructor")).toBeUndefined();
    expect(index.storeCount).toBe(0);
    expect(index.keyCount).toBe(0);
  });
});
