// Pure helpers of the benchmarks: percentiles, medians, and the issue's targets judged against
// measured figures (met / missed / not measured), printed as one summary block at the end.

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** The middle value (the mean of the two middle ones for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * A ratio from paired rounds whose order alternates, with each order weighing half: the mean of
 * the median of the rounds where A ran first and of those where B did (whichever runs first may
 * be favoured, and an odd count would tip the median towards one order). NaN without rounds.
 */
export function orderBalancedRatio(rounds: ReadonlyArray<{ aFirst: boolean; ratio: number }>): number {
  const first = median(rounds.filter((r) => r.aFirst).map((r) => r.ratio));
  const second = median(rounds.filter((r) => !r.aFirst).map((r) => r.ratio));
  if (Number.isNaN(first)) return second;
  if (Number.isNaN(second)) return first;
  return (first + second) / 2;
}

export interface Target {
  /** What is measured, e.g. "typical pod: throughput ÷ baseline at c=8". */
  what: string;
  /** The measured value as printed, e.g. "0.91" or "0.42 ms". */
  value: string;
  /** The target as printed, e.g. "≥ 0.85". */
  limit: string;
  /** undefined: not measured in this run (BENCH_ONLY, a smaller BENCH_SCALES). */
  met: boolean | undefined;
  /** The raw figures, for the results file. */
  measured: number | undefined;
  bound: number;
  /** What the floor (the same answers without checks, floor-server.ts) reached, e.g. "floor 0.61". */
  reference?: string;
}

type Format = (value: number) => string;
const plain: Format = (value) => value.toFixed(2);

function judged(
  what: string,
  measured: number | undefined,
  bound: number,
  sign: "≥" | "≤",
  format: Format,
): Target {
  const known = measured !== undefined && Number.isFinite(measured);
  return {
    what,
    value: known ? format(measured) : "not measured",
    limit: `${sign} ${format(bound)}`,
    met: known ? (sign === "≥" ? measured >= bound : measured <= bound) : undefined,
    measured: known ? measured : undefined,
    bound,
  };
}

/** A target the measured value must reach (a ratio of throughput, say). */
export function atLeast(what: string, measured: number | undefined, bound: number, format = plain): Target {
  return judged(what, measured, bound, "≥", format);
}

/** A target the measured value must not exceed (latency, memory, a ratio of CPU). */
export function atMost(what: string, measured: number | undefined, bound: number, format = plain): Target {
  return judged(what, measured, bound, "≤", format);
}

/** The target with what the floor reached on the same figure (undefined: not measured). */
export function withFloor(target: Target, floor: number | undefined, format = plain): Target {
  return floor === undefined || !Number.isFinite(floor)
    ? target
    : { ...target, reference: `the floor: ${format(floor)}` };
}

export const verdict = (target: Target): "met" | "missed" | "n/a" =>
  target.met === undefined ? "n/a" : target.met ? "met" : "missed";

/** The summary block: one line per target, aligned, and a count of met ones. */
export function summaryLines(targets: readonly Target[]): string[] {
  const width = Math.max(0, ...targets.map((t) => t.what.length));
  const lines = targets.map(
    (t) =>
      `   ${verdict(t).padEnd(6)} ${t.what.padEnd(width)}  ${t.value} (target ${t.limit}${t.reference ? `; ${t.reference}` : ""})`,
  );
  const measured = targets.filter((t) => t.met !== undefined);
  const met = measured.filter((t) => t.met).length;
  lines.push(
    `   ${met} of ${measured.length} measured targets met, ${targets.length - measured.length} not measured`,
  );
  return lines;
}

/**
 * Growth between the two largest sizes measured (0 owners: the empty namespace), in KB of RSS and
 * ms of sync per owner; undefined with fewer than two sizes.
 */
export function growth(rows: ReadonlyArray<{ owners: number; rssMb: number; readySeconds: number }>) {
  const sized = rows.toSorted((a, b) => a.owners - b.owners);
  const [small, large] = [sized.at(-2), sized.at(-1)];
  if (!small || !large || large.owners === small.owners) return undefined;
  const owners = large.owners - small.owners;
  return {
    from: small.owners,
    to: large.owners,
    rssKbPerOwner: ((large.rssMb - small.rssMb) * 1024) / owners,
    syncMsPerOwner: ((large.readySeconds - small.readySeconds) * 1000) / owners,
  };
}
