// CPU time of the request path without the network: JSON.parse of the body, the review handler
// (decode, admit, metrics, the log line, to a writer that keeps nothing) and the JSON text of the
// answer, per request, for each bench pod; and, for comparison, the parse alone (what the baseline
// server does besides HTTP). On a shared machine this is steadier than requests per second.
//
//   tsx bench/handler-cost.ts            (runs dist/: `make build` first)
//   HANDLER_FROM=/tmp/old/dist tsx bench/handler-cost.ts      another build, e.g. of main

import { BENCH_KEYS, BENCH_OWNER, BENCH_POLICY, PODS, review } from "./pods.js";

// HANDLER_FROM: "src", or another build's dist/ folder (an absolute path) to compare with.
const from = process.env.HANDLER_FROM;
const root = from === "src" ? "../src" : (from ?? "../dist");
const load = <T>(path: string) => import(`${root}/${path}`) as Promise<T>;
const { MemorySecretIndex } =
  await load<typeof import("../src/core/secret-index.js")>("core/secret-index.js");
const { createLogger } = await load<typeof import("../src/lifecycle/logger.js")>("lifecycle/logger.js");
const { createMetrics } = await load<typeof import("../src/server/metrics.js")>("server/metrics.js");
const { createReviewHandler } =
  await load<typeof import("../src/server/review-handler.js")>("server/review-handler.js");
const respond = await load<Partial<typeof import("../src/admission/respond.js")>>("admission/respond.js");
// The answer's text as the server writes it (builds before reviewJson: JSON.stringify).
const answerText = (body: object) =>
  respond.reviewJson && "response" in body
    ? respond.reviewJson(body as Parameters<typeof respond.reviewJson>[0])
    : JSON.stringify(body);

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

function run(text: string, count: number, parseOnly: boolean): number {
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const value: unknown = JSON.parse(text);
    if (parseOnly) continue;
    const answer = handle(value);
    if (answer instanceof Promise) throw new Error("the bench store is in memory: no lookup expected");
    bytes += answerText(answer.body).length;
  }
  return bytes;
}

function cpuUsPer(text: string, count: number, parseOnly: boolean): number {
  const before = process.cpuUsage();
  run(text, count, parseOnly);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

const ROUNDS = Number(process.env.HANDLER_ROUNDS ?? 5);
for (const [name, pod] of Object.entries(PODS)) {
  const text = JSON.stringify(review(pod, "0f2d1c7e-bench"));
  const count = name === "large" ? 2_000 : 20_000;
  run(text, count, false); // warm-up: optimised code, steady heap
  const parse: number[] = [];
  const whole: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    parse.push(cpuUsPer(text, count, true));
    whole.push(cpuUsPer(text, count, false));
  }
  // The lowest of the rounds: the other helpers' load only ever adds time.
  const p = Math.min(...parse);
  const w = Math.min(...whole);
  process.stdout.write(
    `${name.padEnd(8)} parse ${p.toFixed(1).padStart(6)} µs | parse + handler + answer ${w.toFixed(1).padStart(7)} µs | handler ${(w - p).toFixed(1).padStart(7)} µs\n`,
  );
}
if (logged === 0) throw new Error("no log line was written");
