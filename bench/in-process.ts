// The webhook's request path without the network, for the in-process bench tools
// (handler-cost.ts, handler-alloc.ts): JSON.parse of a review, the review handler (decode, admit,
// metrics, the log line to a writer that keeps nothing) and the answer's text, from a build's
// dist/ (HANDLER_FROM: another build's dist/, or "src").

import { BENCH_KEYS, BENCH_OWNER, BENCH_POLICY } from "./pods.js";

const from = process.env.HANDLER_FROM;
const root = from === "src" ? "../src" : (from ?? "../dist");
const load = <T>(path: string) => import(`${root}/${path}`) as Promise<T>;
const { MemorySecretIndex } =
  await load<typeof import("../src/core/secret-index.js")>("core/secret-index.js");
const { createLogger } = await load<typeof import("../src/lifecycle/logger.js")>("lifecycle/logger.js");
const { createMetrics } = await load<typeof import("../src/server/metrics.js")>("server/metrics.js");
const { createReviewHandler } =
  await load<typeof import("../src/server/review-handler.js")>("server/review-handler.js");
// Partial: builds older than reviewJson answered with JSON.stringify.
const respond = await load<Partial<typeof import("../src/admission/respond.js")>>("admission/respond.js");

const index = new MemorySecretIndex();
index.set("bench", `user--${BENCH_OWNER}--secrets`, BENCH_KEYS);
let logged = 0;
let answered = 0;
const handle = createReviewHandler({
  policy: BENCH_POLICY,
  index,
  refresh: undefined,
  logger: createLogger("info", (line) => {
    logged += line.length;
  }),
  metrics: createMetrics({ storeCount: 1, keyCount: BENCH_KEYS.length, synced: true }),
});

/** `count` requests of `text`: parsed, and unless `parseOnly` handled and answered as the server does. */
export function runRequests(text: string, count: number, parseOnly: boolean): void {
  for (let i = 0; i < count; i++) {
    const value: unknown = JSON.parse(text);
    if (parseOnly) continue;
    const answer = handle(value);
    if (answer instanceof Promise) throw new Error("the bench store is in memory: no lookup expected");
    const body = answer.body;
    answered += (respond.reviewJson && "response" in body ? respond.reviewJson(body) : JSON.stringify(body))
      .length;
  }
}

/** Throws unless requests were answered and logged: a tool that measured nothing must say so. */
export function checkAnswered(): void {
  if (logged === 0 || answered === 0) throw new Error("no request was answered and logged");
}
