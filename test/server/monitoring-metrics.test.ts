// The metrics the chart's alerts need beyond the counters: the readiness gauge (up but not ready
// is not down) and latency buckets above any API server timeout (1 to 30 s), without which a p99
// past 5 s would read as 5 s and the latency alert could never fire.

import { describe, expect, it } from "vitest";
import { BodyBudget } from "../../src/server/body-budget.js";
import { createMetrics } from "../../src/server/metrics.js";

const PREFIX = "apolo_secrets_webhook_";

/** The value of an unlabelled sample in the registry's exposition text. */
async function sample(text: Promise<string>, name: string): Promise<number | undefined> {
  const line = (await text).split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe("the ready gauge", () => {
  it("follows the readiness conditions at scrape time", async () => {
    const waiting: string[] = ["certificate not loaded", "store cache not synced"];
    const { registry } = createMetrics(
      { storeCount: 0, keyCount: 0, synced: false },
      new BodyBudget(1),
      () => waiting,
    );
    expect(await sample(registry.metrics(), `${PREFIX}ready`)).toBe(0);
    waiting.splice(0, 1);
    expect(await sample(registry.metrics(), `${PREFIX}ready`)).toBe(0);
    waiting.splice(0, 1);
    expect(await sample(registry.metrics(), `${PREFIX}ready`)).toBe(1);
    waiting.push("shutting down");
    expect(await sample(registry.metrics(), `${PREFIX}ready`)).toBe(0);
  });

  it("reports ready where no readiness is given, and is exported as a gauge", async () => {
    const { registry } = createMetrics(undefined);
    const text = await registry.metrics();
    expect(text).toContain(`# TYPE ${PREFIX}ready gauge`);
    expect(await sample(Promise.resolve(text), `${PREFIX}ready`)).toBe(1);
  });
});

describe("the admission duration histogram", () => {
  it("has buckets up to 30 s, so a p99 over any timeoutSeconds is seen", async () => {
    const { registry, admissionDuration } = createMetrics(undefined);
    admissionDuration.observe({ decision: "allowed" }, 7);
    admissionDuration.observe({ decision: "allowed" }, 12);
    const bucket = async (le: string) =>
      sample(registry.metrics(), `${PREFIX}admission_duration_seconds_bucket{le="${le}",decision="allowed"}`);
    expect(await bucket("5")).toBe(0);
    expect(await bucket("10")).toBe(1);
    expect(await bucket("30")).toBe(2);
    expect(await bucket("+Inf")).toBe(2);
  });
});
