// 4. A sustained run: typical-pod admissions at 8 connections, the webhook's RSS sampled every 5 s,
// errors counted.

import { type Benchmark, ms, rssMb, SOAK_SECONDS, say, webhookPid } from "./common.js";
import { wrk } from "./load.js";
import { PODS, review } from "./pods.js";

const SAMPLE_EVERY_MS = 5000;

/** Least-squares slope in MB per minute over the second half: single samples swing with each GC. */
function secondHalfSlope(samples: Array<{ t: number; rssMb: number }>): number {
  const second = samples.filter((sample) => sample.t >= SOAK_SECONDS / 2);
  const meanT = second.reduce((a, b) => a + b.t, 0) / second.length;
  const meanR = second.reduce((a, b) => a + b.rssMb, 0) / second.length;
  const covariance = second.reduce((a, b) => a + (b.t - meanT) * (b.rssMb - meanR), 0);
  const variance = second.reduce((a, b) => a + (b.t - meanT) ** 2, 0);
  return second.length > 2 && variance > 0 ? (covariance / variance) * 60 : Number.NaN;
}

export const soak: Benchmark = {
  name: "soak",
  async run({ cluster, work }) {
    say(
      `\n4. Sustained run: ${SOAK_SECONDS} s of typical-pod admissions at 8 connections, RSS sampled every 5 s`,
    );
    const pid = webhookPid(cluster);
    const samples: Array<{ t: number; rssMb: number }> = [];
    const started = performance.now();
    const body = JSON.stringify(review(PODS.typical, "soak"));
    const load = wrk(cluster.webhook.url, body, 8, SOAK_SECONDS, work);
    let done = false;
    void load.finally(() => {
      done = true;
    });
    while (!done) {
      samples.push({ t: (performance.now() - started) / 1000, rssMb: rssMb(pid) });
      await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
    }
    const measured = await load;
    const result = {
      seconds: SOAK_SECONDS,
      requests: measured.requests,
      rps: measured.rps,
      errors: measured.errors,
      p99Ms: measured.p99Ms,
      rssFirstMb: samples[0]?.rssMb ?? Number.NaN,
      rssLastMb: samples.at(-1)?.rssMb ?? Number.NaN,
      rssMaxMb: Math.max(...samples.map((s) => s.rssMb)),
      rssSlopeSecondHalfMbPerMin: secondHalfSlope(samples),
    };
    say(
      `   ${result.requests} admissions (${result.rps.toFixed(0)}/s), ${result.errors} errors, p99 ${ms(result.p99Ms)} ms; RSS ${result.rssFirstMb.toFixed(1)} → ${result.rssLastMb.toFixed(1)} MB (max ${result.rssMaxMb.toFixed(1)}), second-half slope ${result.rssSlopeSecondHalfMbPerMin.toFixed(2)} MB/min`,
    );
    const target = { what: "sustained run: no errors", value: `${result.errors}`, met: result.errors === 0 };
    return { result, targets: [target] };
  },
};
