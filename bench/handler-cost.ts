// CPU time of the request path without the network: JSON.parse of the body, the review handler
// (decode, admit, metrics, the log line, to a writer that keeps nothing) and the JSON text of the
// answer, per request, for each bench pod; and, for comparison, the parse alone (what the baseline
// server does besides HTTP). On a shared machine this is steadier than requests per second.
//
//   tsx bench/handler-cost.ts            (runs dist/: `make build` first)
//   HANDLER_FROM=/tmp/old/dist tsx bench/handler-cost.ts      another build, e.g. of main

import { checkAnswered, runRequests } from "./in-process.js";
import { PODS, review } from "./pods.js";

function cpuUsPer(text: string, count: number, parseOnly: boolean): number {
  const before = process.cpuUsage();
  runRequests(text, count, parseOnly);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

const ROUNDS = Number(process.env.HANDLER_ROUNDS ?? 5);
for (const [name, pod] of Object.entries(PODS)) {
  const text = JSON.stringify(review(pod, "0f2d1c7e-bench"));
  const count = name === "large" ? 2_000 : 20_000;
  runRequests(text, count, false); // warm-up: optimised code, steady heap
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
checkAnswered();
