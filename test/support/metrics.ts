// Reads a Prometheus metric from a server's plain-HTTP /metrics (tests and benchmarks).

/** Sum of a metric's samples (all label sets, or those whose labels start with `labels`). */
export async function metricValue(port: number, name: string, labels = ""): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  let sum = 0;
  for (const line of text.split("\n")) {
    const matches = labels
      ? line.startsWith(`${name}{${labels}`)
      : line.startsWith(`${name} `) || line.startsWith(`${name}{`);
    if (matches) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}
