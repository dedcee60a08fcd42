import { describe, expect, it } from "vitest";
import { bearerToken, TokenReviewer } from "./token-review.js";

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

describe("TokenReviewer", () => {
  it("refuses reviews beyond its bound on those in flight, and accepts again once they end", async () => {
    const pending: Array<() => void> = [];
    let calls = 0;
    const api = {
      request: <T>() => {
        calls++;
        return new Promise<T>((resolve) => {
          pending.push(() => resolve({ status: { authenticated: true, user: { username: "alice" } } } as T));
        });
      },
    };
    const reviewer = new TokenReviewer(api, 10_000, 2);
    const first = reviewer.review("t1");
    const second = reviewer.review("t2");
    await expect(reviewer.review("t3")).rejects.toThrow("too many token reviews in flight");
    expect(calls).toBe(2);
    for (const release of pending.splice(0)) release();
    expect(await first).toEqual({ username: "alice", groups: [] });
    await second;
    const third = reviewer.review("t3");
    for (const release of pending.splice(0)) release();
    expect(await third).toEqual({ username: "alice", groups: [] });
  });
});
