// The benchmarks' pure helpers: percentiles and medians, targets judged met / missed / not
// measured, the summary block, growth per owner, and the Secret JSON written straight to etcd.
// No timing here: the figures are made up, the judgement is what is tested.

import { describe, expect, it } from "vitest";
import { type AdmissionRow, admissionTargets } from "../../bench/admission.js";
import { storedSecret } from "../../bench/etcd-stores.js";
import {
  atLeast,
  atMost,
  growth,
  median,
  orderBalancedRatio,
  percentile,
  summaryLines,
  verdict,
} from "../../bench/targets.js";

describe("percentile (nearest rank)", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted

  it("picks the value at the rank, whatever the order", () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
  });

  it("uses the worst sample for p99 of fewer than 100 samples", () => {
    expect(percentile([5, 1, 9, 3], 99)).toBe(9);
    expect(percentile([5, 1, 9, 3], 50)).toBe(3);
  });

  it("is NaN without samples and leaves its input alone", () => {
    expect(percentile([], 50)).toBeNaN();
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe("median", () => {
  it("takes the middle of an odd count and the mean of the middle two of an even one", () => {
    expect(median([0.9, 0.5, 0.7])).toBe(0.7);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe("targets", () => {
  it("judges a lower bound inclusive, and prints value and target", () => {
    expect(atLeast("ratio", 0.85, 0.85).met).toBe(true);
    const missed = atLeast("ratio", 0.849, 0.85);
    expect(missed).toMatchObject({ met: false, value: "0.85", limit: "≥ 0.85", measured: 0.849 });
    expect(verdict(missed)).toBe("missed");
  });

  it("judges an upper bound inclusive, with the unit its format gives", () => {
    const ms = (v: number) => `${v.toFixed(2)} ms`;
    expect(atMost("p50", 0.3, 0.3, ms)).toMatchObject({ met: true, value: "0.30 ms", limit: "≤ 0.30 ms" });
    expect(atMost("p99", 2.01, 2, ms).met).toBe(false);
    expect(atMost("rss", 151, 150).met).toBe(false);
  });

  it("reports a figure not measured (or not a number) as n/a, not as met or missed", () => {
    for (const measured of [undefined, Number.NaN, Number.POSITIVE_INFINITY]) {
      const target = atMost("10,000 owners", measured, 150);
      expect(target.met).toBeUndefined();
      expect(target.value).toBe("not measured");
      expect(verdict(target)).toBe("n/a");
    }
  });

  it("prints one aligned line per target and counts the met ones among the measured", () => {
    const lines = summaryLines([
      atLeast("short", 0.9, 0.85),
      atLeast("a longer name", 0.5, 0.85),
      atMost("absent", undefined, 1),
    ]);
    expect(lines).toEqual([
      "   met    short          0.90 (target ≥ 0.85)",
      "   missed a longer name  0.50 (target ≥ 0.85)",
      "   n/a    absent         not measured (target ≤ 1.00)",
      "   1 of 2 measured targets met, 1 not measured",
    ]);
  });
});

describe("admission targets", () => {
  const row = (pod: string, concurrency: number, throughputRatio: number, cpuRatio: number) =>
    ({ pod, concurrency, throughputRatio, cpuRatio }) as AdmissionRow;

  it("names every pod and concurrency of the issue, judged against its own bound", () => {
    const rows = [
      row("typical", 1, 0.9, 1.1),
      row("typical", 8, 0.8, 1.3),
      row("typical", 32, 0.86, 1.2),
      row("none", 1, 0.96, 1),
      row("none", 8, 0.94, 1),
      row("large", 1, 0.5, 3),
    ];
    const byName = new Map(admissionTargets(rows).map((t) => [t.what, t]));
    const met = (what: string) => byName.get(what)?.met;
    expect(met("typical pod: throughput ÷ baseline, c=1")).toBe(true);
    expect(met("typical pod: throughput ÷ baseline, c=8")).toBe(false);
    expect(met("typical pod: CPU per request ÷ baseline, c=8")).toBe(false);
    expect(met("typical pod: CPU per request ÷ baseline, c=32")).toBe(true);
    expect(met("no-reference pod: throughput ÷ baseline, c=1")).toBe(true);
    expect(met("no-reference pod: throughput ÷ baseline, c=8")).toBe(false);
    expect(met("no-reference pod: throughput ÷ baseline, c=32")).toBeUndefined();
    expect(met("large pod (20 × 30 refs): throughput ÷ baseline, c=1")).toBe(true);
    expect(byName.size).toBe(12);
  });

  it("prints what the floor reached next to the target, and only where it was measured", () => {
    const rows = [
      { ...row("typical", 8, 0.5, 2), floorThroughputRatio: 0.61, floorCpuRatio: 1.63 },
      row("none", 8, 0.7, 1.5),
    ];
    const byName = new Map(admissionTargets(rows).map((t) => [t.what, t]));
    const throughput = byName.get("typical pod: throughput ÷ baseline, c=8");
    expect(throughput?.reference).toBe("the floor: 0.61");
    expect(byName.get("typical pod: CPU per request ÷ baseline, c=8")?.reference).toBe("the floor: 1.63");
    expect(byName.get("no-reference pod: throughput ÷ baseline, c=8")?.reference).toBeUndefined();
    expect(summaryLines(throughput ? [throughput] : [])[0]).toContain(
      "0.50 (target ≥ 0.85; the floor: 0.61)",
    );
  });
});

describe("order-balanced ratio of paired rounds", () => {
  it("weighs the rounds where A ran first and those where B did alike, whatever their counts", () => {
    // A is favoured when it runs first: a plain median of these five would be 1.04.
    const rounds = [
      { aFirst: true, ratio: 1.05 },
      { aFirst: false, ratio: 0.92 },
      { aFirst: true, ratio: 1.04 },
      { aFirst: false, ratio: 0.96 },
      { aFirst: true, ratio: 1.06 },
    ];
    expect(orderBalancedRatio(rounds)).toBeCloseTo((1.05 + 0.94) / 2, 10);
  });

  it("uses the one order there is, and is NaN without rounds", () => {
    expect(orderBalancedRatio([{ aFirst: false, ratio: 0.9 }])).toBe(0.9);
    expect(orderBalancedRatio([])).toBeNaN();
  });
});

describe("growth per owner", () => {
  it("is measured between the two largest sizes", () => {
    const rows = [
      { owners: 0, rssMb: 80, readySeconds: 1 },
      { owners: 100_000, rssMb: 380, readySeconds: 31 },
      { owners: 10_000, rssMb: 110, readySeconds: 4 },
    ];
    expect(growth(rows)).toEqual({ from: 10_000, to: 100_000, rssKbPerOwner: 3.072, syncMsPerOwner: 0.3 });
  });

  it("uses the empty namespace when only one size was measured, and needs two sizes", () => {
    const empty = { owners: 0, rssMb: 80, readySeconds: 1 };
    expect(growth([empty, { owners: 1000, rssMb: 81, readySeconds: 1.5 }])?.from).toBe(0);
    expect(growth([empty])).toBeUndefined();
  });
});

describe("store Secrets written to etcd", () => {
  it("are what the API server stores: kind, namespace, uid, the store label, base64 data", () => {
    const secret = storedSecret("scale-100000", "owner-7", ["a", "b"], "2026-01-01T00:00:00Z");
    expect(secret).toMatchObject({
      kind: "Secret",
      apiVersion: "v1",
      type: "Opaque",
      metadata: {
        name: "user--owner-7--secrets",
        namespace: "scale-100000",
        creationTimestamp: "2026-01-01T00:00:00Z",
        labels: { "platform.apolo.us/secrets-store": "true" },
      },
    });
    expect(secret.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(secret.data)).toEqual(["a", "b"]);
    expect(Buffer.from(secret.data.a as string, "base64").toString()).toBe("value of a for owner-7");
  });
});
