import { describe, expect, it } from "vitest";
import { isBase64 } from "./base64.js";

describe("isBase64", () => {
  it("accepts standard base64 with and without padding, and the empty value", () => {
    for (const bytes of [0, 1, 2, 3, 4, 5, 100]) {
      const text = Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 37) & 255)).toString("base64");
      expect(isBase64(text), text).toBe(true);
    }
    expect(isBase64("")).toBe(true);
    expect(isBase64("+/+/")).toBe(true);
    expect(isBase64("YQ==")).toBe(true);
    expect(isBase64("YWI=")).toBe(true);
  });

  it("refuses other alphabets, missing or misplaced padding, and stray characters", () => {
    for (const text of [
      "not base64!",
      "YQ",
      "YQ=",
      "Y===",
      "====",
      "=YWI",
      "YQ==YQ==",
      "Y=Q=",
      "-_-_",
      "YWJj\n",
      "YW Jj",
      "YWJ\u00e9",
      "YWJ\u0100",
    ]) {
      expect(isBase64(text), JSON.stringify(text)).toBe(false);
    }
  });

  it("checks a 1.4 MB value, and one that fails only at its end, in one pass", () => {
    const value = Buffer.alloc(1024 * 1024, 7).toString("base64");
    expect(value.length).toBeGreaterThan(1_398_000);
    expect(isBase64(value)).toBe(true);
    expect(isBase64(`${value.slice(0, -4)}AAA!`)).toBe(false);
    // Long runs that a backtracking pattern would retry from every position.
    expect(isBase64(`${"A".repeat(1_400_000)}A=A=`)).toBe(false);
    expect(isBase64(`${"AAA=".repeat(350_000)}`)).toBe(false);
  });
});
