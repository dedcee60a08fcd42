// Every metric the chart's alerts and dashboard query is one the running webhook exports: the
// suite's webhook process (built dist/, real API server) is scraped on its metrics port and the
// names are compared with those in the rendered PrometheusRule and in the dashboard's queries.
// A renamed metric would leave an alert that can never fire and a panel that stays empty.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CHART, find, render } from "../chart/helm.js";
import { e2e } from "./support.js";

const local = e2e().local;
// Series Prometheus makes itself for each target, not the webhook.
const SCRAPE_SERIES = new Set(["up"]);
const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"];

/** Metric names in PromQL: every selector here has label matchers, so a name is what precedes `{`. */
function metricNames(exprs: string[]): Set<string> {
  const names = new Set<string>();
  for (const expr of exprs)
    for (const match of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)) names.add(match[1] as string);
  return names;
}

/** Name → type, from the `# TYPE` lines of an exposition. */
function exportedTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("# TYPE ")) continue;
    const [name, type] = line.slice("# TYPE ".length).split(" ");
    if (name && type) types.set(name, type);
  }
  return types;
}

/** Names the exposition does not serve: a histogram's _bucket, _sum and _count count as its own. */
function unexported(names: Set<string>, types: Map<string, string>): string[] {
  return [...names].filter((name) => {
    if (SCRAPE_SERIES.has(name) || types.has(name)) return false;
    const suffix = HISTOGRAM_SUFFIXES.find((s) => name.endsWith(s));
    return !(suffix && types.get(name.slice(0, -suffix.length)) === "histogram");
  });
}

describe.runIf(local !== undefined)("the metrics the chart's alerts and dashboard query", () => {
  const scrape = async () => {
    const port = local?.webhook.metricsPort;
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  };

  it("are all exported by the running webhook (alerting rules)", async () => {
    const rule = find(render(["metrics.prometheusRule.enabled=true"]), "PrometheusRule");
    const exprs = (rule.spec as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups.flatMap((g) =>
      g.rules.map((r) => r.expr),
    );
    const names = metricNames(exprs);
    expect(names.size, [...names].join(" ")).toBeGreaterThanOrEqual(8);
    expect(names).toContain("apolo_secrets_webhook_admission_duration_seconds_bucket");
    const text = await scrape();
    expect(unexported(names, exportedTypes(text))).toEqual([]);
    // The suite's webhook is ready, and its latency histogram has the buckets the alert needs.
    expect(text).toContain("\napolo_secrets_webhook_ready 1\n");
    expect(text).toMatch(/apolo_secrets_webhook_admission_duration_seconds_bucket\{le="30",/);
  });

  it("are all exported by the running webhook (dashboard queries and variables)", async () => {
    const dashboard = JSON.parse(readFileSync(join(CHART, "files/grafana-dashboard.json"), "utf8")) as {
      panels: Array<{ targets?: Array<{ expr: string }> }>;
      templating: { list: Array<{ definition?: string }> };
    };
    const exprs = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      // label_values(metric, label) names a metric without braces: give it one.
      ...dashboard.templating.list.flatMap((v) =>
        v.definition ? [v.definition.replace("label_values(", "").replace(/^([a-z_:]+),/, "$1{},")] : [],
      ),
    ];
    const names = metricNames(exprs);
    expect(names.size, [...names].join(" ")).toBeGreaterThanOrEqual(12);
    expect(unexported(names, exportedTypes(await scrape()))).toEqual([]);
  });

  it("would be caught when missing: a name the webhook does not export is reported", async () => {
    const types = exportedTypes(await scrape());
    expect(
      unexported(
        metricNames([
          'rate(apolo_secrets_webhook_admissions_total{job="x"}[5m])',
          'apolo_secrets_webhook_no_such_metric{job="x"}',
          'apolo_secrets_webhook_admission_duration_seconds_count{job="x"}',
          'apolo_secrets_webhook_ready_bucket{job="x"}',
        ]),
        types,
      ),
    ).toEqual(["apolo_secrets_webhook_no_such_metric", "apolo_secrets_webhook_ready_bucket"]);
  });
});
