// Bytes allocated per request by the request path without the network (parse, review handler,
// answer text), against the parse alone, for each bench pod: the heap's growth over a batch of
// requests small enough that no collection runs in between (the young generation is made large).
//
//   node --max-semi-space-size=64 --import tsx bench/handler-alloc.ts   (after `make build`)
//   HANDLER_FROM=/tmp/old/dist …   another build

import { getHeapStatistics } from "node:v8";
import { BENCH_KEYS, BENCH_OWNER, BENCH_POLICY, PODS, review } from "./pods.js";

const from = process.env.HANDLER_FROM;
const root = from === "src" ? "../src" : (from ?? "../dist");
const load = <T>(path: string) => import(`${root}/${path}`) as Promise<T>;
const { MemorySecretIndex } =
  await load<typeof import("../src/core/secret-index.js")>("core/secret-index.js");
const { createLogger } = await load<typeof import("../src/lifecycle/logger.js")>("lifecycle/logger.js");
const { createMetrics } = await load<typeof import("../src/server/metrics.js")>("server/metrics.js");
const { createReviewHandler } =
  await load<typeof import("../src/server/review-handler.js")>("server/review-handler.js");
const respond = await load<typeof import("../src/admission/respond.js")>("admission/respond.js");

const index = new MemorySecretIndex();
index.set("bench", `user--${BENCH_OWNER}--secrets`, BENCH_KEYS);
let logged = 0;
const handle = createReviewHandler({
  policy: BENCH_POLICY,
  index,
  refresh: undefined,
  logger: createLogger("info", (line) => {
    logged += line.length;
  }),
  metrics: createMetrics({ storeCount: 1, keyCount: BENCH_KEYS.length, synced: true }),
});

let sink = 0;
function run(text: string, count: number, parseOnly: boolean): void {
  for (let i = 0; i < count; i++) {
    const value: unknown = JSON.parse(text);
    if (parseOnly) continue;
    const answer = handle(value);
    if (answer instanceof Promise) throw new Error("no lookup expected");
    const body = answer.body;
    sink += ("response" in body ? respond.reviewJson(body) : JSON.stringify(body)).length;
  }
}

function bytesPer(text: string, count: number, parseOnly: boolean): number {
  const before = getHeapStatistics().used_heap_size;
  run(text, count, parseOnly);
  const after = getHeapStatistics().used_heap_size;
  return (after - before) / count;
}

for (const [name, pod] of Object.entries(PODS)) {
  const text = JSON.stringify(review(pod, "0f2d1c7e-bench"));
  const count = name === "large" ? 10 : 500;
  run(text, 5000, false);
  const parse: number[] = [];
  const whole: number[] = [];
  for (let round = 0; round < 7; round++) {
    parse.push(bytesPer(text, count, true));
    whole.push(bytesPer(text, count, false));
  }
  // A collection during a batch shrinks the heap: the median batch is one without.
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1] as number;
  const p = median(parse);
  const w = median(whole);
  process.stdout.write(
    `${name.padEnd(8)} parse ${(p / 1024).toFixed(2)} KB | parse + handler + answer ${(w / 1024).toFixed(2)} KB | handler ${((w - p) / 1024).toFixed(2)} KB per request\n`,
  );
}
if (logged === 0 || sink === 0) throw new Error("nothing was answered");
