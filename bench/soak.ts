// 3. A sustained run: typical-pod admissions at 8 connections for BENCH_SOAK_SECONDS against a
// fresh baseline server, then as long against a fresh webhook process on plain Node and one with
// the chart's heap flags (webhook.nodeOptions; the shared webhook's heap has grown on the large
// pods before), the same load (wrk settings and requests): the flags' memory gain from the
// sustained runs, their throughput cost from paired rounds of the two warm webhooks afterwards.
// Each server's RSS is sampled every second and its peak (VmHWM, reset when its run starts) read
// at the end; throughput and errors come from the same runs, so a memory gain bought with
// throughput shows.

import type { LocalCluster } from "../test/cluster/harness.js";
import { stopProcess } from "../test/cluster/processes.js";
import { launchWebhook } from "../test/cluster/webhook.js";
import { patchOperations, withBenchStore } from "./admission.js";
import { startBaseline } from "./baseline.js";
import {
  type Benchmark,
  ms,
  peakRssMb,
  resetPeakRss,
  rssMb,
  SOAK_SECONDS,
  say,
  webhookEnv,
} from "./common.js";
import { wrk } from "./load.js";
import { PODS, review } from "./pods.js";
import { atLeast, atMost, orderBalancedRatio } from "./targets.js";

const SAMPLE_EVERY_MS = 1000;
const CONNECTIONS = 8;

/** Least-squares slope in MB per minute over the second half: single samples swing with each GC. */
function secondHalfSlope(samples: Array<{ t: number; rssMb: number }>): number {
  const second = samples.filter((sample) => sample.t >= SOAK_SECONDS / 2);
  const meanT = second.reduce((a, b) => a + b.t, 0) / second.length;
  const meanR = second.reduce((a, b) => a + b.rssMb, 0) / second.length;
  const covariance = second.reduce((a, b) => a + (b.t - meanT) * (b.rssMb - meanR), 0);
  const variance = second.reduce((a, b) => a + (b.t - meanT) ** 2, 0);
  return second.length > 2 && variance > 0 ? (covariance / variance) * 60 : Number.NaN;
}

/** One server under the sustained load: throughput, errors, RSS samples and peak. */
async function sustained(url: string, pid: number, work: string) {
  const idleMb = rssMb(pid);
  const peakReset = resetPeakRss(pid);
  const samples: Array<{ t: number; rssMb: number }> = [];
  const started = performance.now();
  const body = JSON.stringify(review(PODS.typical, "soak"));
  const load = wrk(url, body, CONNECTIONS, SOAK_SECONDS, work);
  let done = false;
  void load.finally(() => {
    done = true;
  });
  while (!done) {
    samples.push({ t: (performance.now() - started) / 1000, rssMb: rssMb(pid) });
    await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
  }
  const measured = await load;
  const sampledPeak = Math.max(...samples.map((s) => s.rssMb));
  return {
    requests: measured.requests,
    rps: measured.rps,
    errors: measured.errors,
    p50Ms: measured.p50Ms,
    p99Ms: measured.p99Ms,
    maxMs: measured.maxMs,
    idleRssMb: idleMb,
    // VmHWM sees the peak between samples; without clear_refs it is the whole life's peak.
    peakRssMb: peakReset ? Math.max(peakRssMb(pid), sampledPeak) : sampledPeak,
    peakFrom: peakReset ? "VmHWM" : "samples",
    rssLastMb: samples.at(-1)?.rssMb ?? Number.NaN,
    rssSlopeSecondHalfMbPerMin: secondHalfSlope(samples),
    samples,
  };
}

type Sustained = Awaited<ReturnType<typeof sustained>>;

function line(who: string, r: Sustained): string {
  return `   ${who.padEnd(8)} ${r.requests} admissions (${r.rps.toFixed(0)}/s), ${r.errors} errors, p50 ${ms(r.p50Ms)} p99 ${ms(r.p99Ms)} max ${ms(r.maxMs)} ms | RSS idle ${r.idleRssMb.toFixed(1)} MB, peak ${r.peakRssMb.toFixed(1)} MB (${r.peakFrom}), last ${r.rssLastMb.toFixed(1)} MB, second-half slope ${r.rssSlopeSecondHalfMbPerMin.toFixed(2)} MB/min`;
}

/** A fresh webhook process under the sustained load; `env` sets its NODE_OPTIONS. Left running. */
async function sustainedWebhook(cluster: LocalCluster, work: string, name: string, env: NodeJS.ProcessEnv) {
  // Without client certificates, as the shared webhook (wrk cannot present one).
  const fresh = await launchWebhook(cluster.plane, name, {
    clientAuth: false,
    adjust: (prepared) => {
      prepared.env = env;
    },
  });
  await withBenchStore(cluster, fresh.webhook.metricsPort);
  const body = JSON.stringify(review(PODS.typical, "soak-check"));
  await patchOperations(cluster, "typical", body, fresh.webhook.url);
  return { url: fresh.webhook.url, result: await sustained(fresh.webhook.url, fresh.managed.pid, work) };
}

const PAIRED_ROUNDS = 6;
const PAIRED_SECONDS = 5;

/**
 * Throughput of the webhook with the heap flags ÷ without, from PAIRED_ROUNDS rounds that load
 * both (warm) processes back to back, the order swapping each round, each order weighing half
 * (orderBalancedRatio): one sustained run each differs by as much as the machine drifts over
 * two minutes, and whichever process runs second in a round was often slower.
 */
async function pairedThroughput(flagged: string, plain: string, work: string) {
  const body = JSON.stringify(review(PODS.typical, "soak-paired"));
  const rounds: Array<{ flagged: number; plain: number; flaggedFirst: boolean }> = [];
  const run = (url: string) => wrk(url, body, CONNECTIONS, PAIRED_SECONDS, work).then((r) => r.rps);
  for (let round = 0; round < PAIRED_ROUNDS; round++) {
    const flaggedFirst = round % 2 === 0;
    if (flaggedFirst) rounds.push({ flagged: await run(flagged), plain: await run(plain), flaggedFirst });
    else {
      const first = await run(plain);
      rounds.push({ plain: first, flagged: await run(flagged), flaggedFirst });
    }
  }
  const ratio = orderBalancedRatio(
    rounds.map((r) => ({ aFirst: r.flaggedFirst, ratio: r.flagged / r.plain })),
  );
  return { ratio, rounds };
}

export const soak: Benchmark = {
  name: "soak",
  async run({ cluster, work }) {
    const heap = webhookEnv();
    say(
      `\n3. Sustained run: ${SOAK_SECONDS} s of typical-pod admissions at ${CONNECTIONS} connections against a fresh baseline, then a fresh webhook on plain Node, then one with the chart's heap flags (${heap.NODE_OPTIONS}); RSS sampled every second, peak from VmHWM; then ${PAIRED_ROUNDS} paired rounds of ${PAIRED_SECONDS} s of the two webhooks for the flags' throughput cost`,
    );
    const baselineServer = await startBaseline(cluster, "baseline-soak");
    let baseline: Sustained;
    try {
      baseline = await sustained(baselineServer.url, baselineServer.pid, work);
    } finally {
      await stopProcess(cluster.plane.pidFile, baselineServer.name);
    }
    say(line("baseline", baseline));
    const { NODE_OPTIONS: _, ...plainEnv } = process.env;
    try {
      const plain = await sustainedWebhook(cluster, work, "webhook-soak-plain", plainEnv);
      say(line("webhook, plain Node", plain.result));
      const flagged = await sustainedWebhook(cluster, work, "webhook-soak", heap);
      const webhook = flagged.result;
      say(line("webhook, the chart's heap flags", webhook));
      const paired = await pairedThroughput(flagged.url, plain.url, work);
      const peakRatio = webhook.peakRssMb / baseline.peakRssMb;
      const throughputRatio = webhook.rps / baseline.rps;
      say(
        `   peak RSS ÷ baseline: ${peakRatio.toFixed(2)} with the chart's heap flags, ${(plain.result.peakRssMb / baseline.peakRssMb).toFixed(2)} on plain Node | throughput with the flags ÷ without: ${paired.ratio.toFixed(3)} (paired rounds, flags first/second: ${paired.rounds.map((r) => `${(r.flagged / r.plain).toFixed(3)}${r.flaggedFirst ? "f" : "s"}`).join(" ")}; the sustained runs ${(webhook.rps / plain.result.rps).toFixed(3)}) | throughput ÷ baseline ${throughputRatio.toFixed(2)}`,
      );
      const result = {
        seconds: SOAK_SECONDS,
        connections: CONNECTIONS,
        nodeOptions: heap.NODE_OPTIONS,
        baseline,
        plain: plain.result,
        webhook,
        peakRatio,
        throughputRatio,
        flagsThroughputRatio: paired.ratio,
        pairedRounds: paired.rounds,
      };
      const targets = [
        atMost("sustained run: webhook peak RSS ÷ baseline's", peakRatio, 1.3),
        atLeast(
          "sustained run: throughput with the chart's heap flags ÷ without (≤ 5 % loss)",
          paired.ratio,
          0.95,
          (v) => v.toFixed(3),
        ),
        atMost("sustained run: errors", webhook.errors + plain.result.errors, 0, (v) => v.toFixed(0)),
      ];
      return { result, targets };
    } finally {
      await stopProcess(cluster.plane.pidFile, "webhook-soak-plain");
      await stopProcess(cluster.plane.pidFile, "webhook-soak");
    }
  },
};
