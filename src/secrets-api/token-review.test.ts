import { describe, expect, it } from "vitest";
import { bearerToken } from "./token-review.js";

describe("bearerToken", () => {
  it("reads the token after the Bearer scheme, in any case, after spaces or tabs", () => {
    expect(bearerToken("Bearer abc.def-ghi_jkl")).toBe("abc.def-ghi_jkl");
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken("BEARER \t  abc==")).toBe("abc==");
  });

  it("refuses missing, empty, other-scheme and two-part credentials", () => {
    for (const header of [
      undefined,
      "",
      "Bearer",
      "Bearer ",
      "Bearer  \t ",
      "Bearerabc",
      "Basic YWxpY2U6cHc=",
      "Token abc",
      "Bearer abc def",
      "Bearer abc ",
      "Bearer abc\u0000",
      "Bearer ab\u007fc",
      " Bearer abc",
    ]) {
      expect(bearerToken(header), JSON.stringify(header)).toBeUndefined();
    }
  });

  it("reads adversarial long headers in one pass", () => {
    expect(bearerToken(`Bearer ${" ".repeat(1_000_000)}x`)).toBe("x");
    expect(bearerToken(`Bearer ${" ".repeat(1_000_000)}`)).toBeUndefined();
    expect(bearerToken(`Bearer ${"a ".repeat(500_000)}`)).toBeUndefined();
    expect(bearerToken(`Bearer ${"a".repeat(1_000_000)}`)).toHaveLength(1_000_000);
  });
});
