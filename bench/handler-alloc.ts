// Bytes allocated per request by the request path without the network (parse, review handler,
// answer text), against the parse alone, for each bench pod: the heap's growth over a batch of
// requests small enough that no collection runs in between (the young generation is made large).
//
//   node --max-semi-space-size=64 --import tsx bench/handler-alloc.ts   (after `make build`)
//   HANDLER_FROM=/tmp/old/dist …   another build

import { getHeapStatistics } from "node:v8";
import { checkAnswered, runRequests } from "./in-process.js";
import { PODS, review } from "./pods.js";

function bytesPer(text: string, count: number, parseOnly: boolean): number {
  const before = getHeapStatistics().used_heap_size;
  runRequests(text, count, parseOnly);
  const after = getHeapStatistics().used_heap_size;
  return (after - before) / count;
}

for (const [name, pod] of Object.entries(PODS)) {
  const text = JSON.stringify(review(pod, "0f2d1c7e-bench"));
  const count = name === "large" ? 10 : 500;
  runRequests(text, 5000, false);
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
checkAnswered();
