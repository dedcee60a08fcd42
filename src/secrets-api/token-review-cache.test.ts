// The secrets API's TokenReview cache (README "Identity": answers kept 10 s, keyed by a hash of
// the token): one review per token within its lifetime, refusals kept like acceptances, failures
// never kept, and a bounded size. The API server is a double that counts the reviews it is asked
// for; the clock is the test's, so nothing waits for time.

import { afterEach, describe, expect, it, vi } from "vitest";
import type { KubeClient } from "../kube/api-client.js";
import { TokenReviewer } from "./token-review.js";

interface Asked {
  method: string;
  path: string;
  token: string;
}

/** Accepts tokens "user:NAME", refuses the rest; `failing` makes every review throw. */
function reviewApi() {
  const asked: Asked[] = [];
  const state = { failing: false };
  const api = {
    request: async (method: string, path: string, options: { body?: unknown } = {}) => {
      const token = (options.body as { spec: { token: string } }).spec.token;
      asked.push({ method, path, token });
      if (state.failing) throw new Error("the API server is unreachable");
      const name = token.startsWith("user:") ? token.slice("user:".length) : undefined;
      return name === undefined
        ? { status: { authenticated: false, error: "invalid bearer token" } }
        : { status: { authenticated: true, user: { username: name, groups: ["g"] } } };
    },
  };
  return { api: api as unknown as KubeClient, asked, state };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the TokenReview cache", () => {
  it("asks the API server once per token within the lifetime, and again after it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
    const { api, asked } = reviewApi();
    const reviewer = new TokenReviewer(api, 10_000);
    for (let i = 0; i < 5; i++) {
      expect(await reviewer.review("user:alice")).toEqual({ username: "alice", groups: ["g"] });
    }
    expect(asked).toEqual([
      { method: "POST", path: "/apis/authentication.k8s.io/v1/tokenreviews", token: "user:alice" },
    ]);
    vi.setSystemTime(new Date("2026-01-01T00:00:09.999Z"));
    await reviewer.review("user:alice");
    expect(asked).toHaveLength(1);
    vi.setSystemTime(new Date("2026-01-01T00:00:10Z"));
    expect(await reviewer.review("user:alice")).toEqual({ username: "alice", groups: ["g"] });
    expect(asked).toHaveLength(2);
  });

  it("keeps tokens apart: each has its own review and its own identity", async () => {
    const { api, asked } = reviewApi();
    const reviewer = new TokenReviewer(api);
    expect(await reviewer.review("user:alice")).toMatchObject({ username: "alice" });
    expect(await reviewer.review("user:bob")).toMatchObject({ username: "bob" });
    expect(await reviewer.review("user:alice")).toMatchObject({ username: "alice" });
    expect(asked.map((a) => a.token)).toEqual(["user:alice", "user:bob"]);
  });

  it("keeps a refusal for the lifetime too, so a bad token costs one review", async () => {
    const { api, asked } = reviewApi();
    const reviewer = new TokenReviewer(api);
    for (let i = 0; i < 3; i++) expect(await reviewer.review("stolen")).toBeUndefined();
    expect(asked).toHaveLength(1);
    // An authenticated answer without a user name is a refusal as well.
    const odd = {
      request: async () => ({ status: { authenticated: true, user: {} } }),
    } as unknown as KubeClient;
    expect(await new TokenReviewer(odd).review("x")).toBeUndefined();
  });

  it("never keeps a failed review: the next call asks again", async () => {
    const { api, asked, state } = reviewApi();
    const reviewer = new TokenReviewer(api);
    state.failing = true;
    await expect(reviewer.review("user:alice")).rejects.toThrow("unreachable");
    state.failing = false;
    expect(await reviewer.review("user:alice")).toMatchObject({ username: "alice" });
    expect(asked).toHaveLength(2);
  });

  it("shares one review between concurrent calls with the same token", async () => {
    const { api, asked } = reviewApi();
    const reviewer = new TokenReviewer(api);
    const answers = await Promise.all(Array.from({ length: 20 }, () => reviewer.review("user:alice")));
    expect(answers.every((answer) => answer?.username === "alice")).toBe(true);
    expect(asked).toHaveLength(1);
  });

  it("keeps recent answers when many new tokens arrive: the oldest goes first", async () => {
    const { api, asked } = reviewApi();
    const reviewer = new TokenReviewer(api);
    for (let i = 0; i < 9_999; i++) await reviewer.review(`user:u${i}`);
    await reviewer.review("user:recent");
    await reviewer.review("user:one-more");
    const before = asked.length;
    await reviewer.review("user:recent");
    expect(asked).toHaveLength(before);
    await reviewer.review("user:u0");
    expect(asked).toHaveLength(before + 1);
  });

  it("holds a bounded number of answers: beyond 10,000 tokens the oldest are asked again", async () => {
    const { api, asked } = reviewApi();
    const reviewer = new TokenReviewer(api);
    await reviewer.review("user:first");
    for (let i = 0; i < 10_001; i++) await reviewer.review(`user:u${i}`);
    expect(asked).toHaveLength(10_002);
    await reviewer.review("user:first");
    expect(asked).toHaveLength(10_003);
    // What was kept after the bound is still kept.
    await reviewer.review("user:u10000");
    expect(asked).toHaveLength(10_003);
  });
});
