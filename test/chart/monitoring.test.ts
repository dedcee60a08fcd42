// The chart's monitoring objects: the PrometheusRule and the Grafana dashboard ConfigMap, off by
// default and on with one value each; what they render to, and the values the schema refuses.
// (The rules themselves are checked by promtool in monitoring-rules.test.ts.)

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CHART, find, helm, type Manifest, render } from "./helm.js";

// Grafana's reference to the dashboard's datasource variable, written as Grafana writes it.
const CHOSEN_DATASOURCE = `\${datasource}`;
const BOTH = ["metrics.prometheusRule.enabled=true", "metrics.grafanaDashboard.enabled=true"];

interface Dashboard {
  uid: string;
  title: string;
  templating: { list: Array<{ name: string; type: string; query: unknown; datasource?: unknown }> };
  panels: Array<{
    type: string;
    title: string;
    datasource?: { uid: string };
    targets?: Array<{ expr: string; datasource: { uid: string } }>;
  }>;
}

const labelsOf = (m: Manifest) => (m.metadata as { labels?: Record<string, string> }).labels ?? {};

function dashboardOf(manifests: Manifest[]): { map: Manifest; json: Dashboard } {
  const map = find(manifests, "ConfigMap", "asw-apolo-secrets-webhook-dashboard");
  const data = (map as unknown as { data: Record<string, string> }).data;
  expect(Object.keys(data)).toEqual(["apolo-secrets-webhook.json"]);
  return { map, json: JSON.parse(data["apolo-secrets-webhook.json"] as string) as Dashboard };
}

describe("monitoring objects of the chart", () => {
  it("are off by default", () => {
    const manifests = render();
    expect(manifests.filter((m) => m.kind === "PrometheusRule")).toEqual([]);
    expect(manifests.filter((m) => m.kind === "ConfigMap" && m.metadata.name.endsWith("-dashboard"))).toEqual(
      [],
    );
  });

  it("render a PrometheusRule for the release's job with metrics.prometheusRule.enabled", () => {
    const manifests = render([
      BOTH[0] as string,
      "metrics.prometheusRule.labels.release=kube-prometheus-stack",
    ]);
    const rule = find(manifests, "PrometheusRule", "asw-apolo-secrets-webhook");
    expect(rule.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(rule.metadata.namespace).toBe("apolo-system");
    expect(labelsOf(rule)).toMatchObject({
      release: "kube-prometheus-stack",
      "app.kubernetes.io/instance": "asw",
    });
    const groups = (
      rule.spec as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string }> }> }
    ).groups;
    expect(groups.map((g) => g.name)).toEqual(["apolo-secrets-webhook"]);
    const alerts = groups.flatMap((g) => g.rules);
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([
        "ApoloSecretsWebhookUnavailable",
        "ApoloSecretsWebhookReplicaUnready",
        "ApoloSecretsWebhookCertificateExpiringSoon",
        "ApoloSecretsWebhookStoreCacheNotSynced",
        "ApoloSecretsWebhookLiveLookupsFailing",
        "ApoloSecretsWebhookRefusalsRising",
        "ApoloSecretsWebhookSlowAdmissions",
      ]),
    );
    for (const alert of alerts)
      expect(alert.expr, alert.alert).toContain('job="asw-apolo-secrets-webhook",namespace="apolo-system"');
    // The dashboard stays off: one value each.
    expect(manifests.filter((m) => m.kind === "ConfigMap" && m.metadata.name.endsWith("-dashboard"))).toEqual(
      [],
    );
  });

  it("render the dashboard ConfigMap with the sidecar's label and a datasource variable", () => {
    const manifests = render([BOTH[1] as string]);
    expect(manifests.filter((m) => m.kind === "PrometheusRule")).toEqual([]);
    const { map, json } = dashboardOf(manifests);
    expect(map.metadata.namespace).toBe("apolo-system");
    expect(labelsOf(map)).toMatchObject({ grafana_dashboard: "1" });
    // The ConfigMap carries the file as it is in the chart.
    expect(json).toEqual(JSON.parse(readFileSync(join(CHART, "files/grafana-dashboard.json"), "utf8")));
    expect(json.uid).toBe("apolo-secrets-webhook");
    const variable = json.templating.list.find((v) => v.name === "datasource");
    expect(variable).toMatchObject({ type: "datasource", query: "prometheus" });
    const queries = json.panels.flatMap((p) => p.targets ?? []);
    expect(queries.length).toBeGreaterThanOrEqual(10);
    // Every panel and query reads the chosen data source, none a fixed one.
    for (const panel of json.panels.filter((p) => p.type !== "row"))
      expect(panel.datasource?.uid, panel.title).toBe(CHOSEN_DATASOURCE);
    for (const query of queries) {
      expect(query.datasource.uid).toBe(CHOSEN_DATASOURCE);
      expect(query.expr).toContain('namespace="$namespace",job="$job"');
    }
    for (const name of ["namespace", "job"])
      expect(json.templating.list.find((v) => v.name === name)?.datasource).toEqual({
        type: "prometheus",
        uid: CHOSEN_DATASOURCE,
      });
  });

  it("put the dashboard where and how metrics.grafanaDashboard says", () => {
    const { map } = dashboardOf(
      render([
        BOTH[1] as string,
        "metrics.grafanaDashboard.sidecarLabel=dashboards.example.com/grafana",
        "metrics.grafanaDashboard.sidecarLabelValue=yes",
        "metrics.grafanaDashboard.namespace=monitoring",
        "metrics.grafanaDashboard.annotations.grafana_folder=Platform",
      ]),
    );
    expect(map.metadata.namespace).toBe("monitoring");
    expect(labelsOf(map)["dashboards.example.com/grafana"]).toBe("yes");
    expect(labelsOf(map).grafana_dashboard).toBeUndefined();
    expect(map.metadata.annotations).toEqual({ grafana_folder: "Platform" });
  });

  it("pass helm lint --strict with both on", () => {
    const result = helm([
      "lint",
      "--strict",
      CHART,
      "--kube-version",
      "1.36.3",
      ...BOTH.flatMap((v) => ["--set", v]),
    ]);
    expect(result.ok, result.stdout + result.stderr).toBe(true);
    expect(result.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
  });

  it.each([
    ["an unknown key", "metrics.prometheusRule.enable=true", "enable"],
    ["a non-boolean switch", "metrics.grafanaDashboard.enabled=yes", "enabled"],
    ["an empty sidecar label", "metrics.grafanaDashboard.sidecarLabel=", "sidecarLabel"],
  ])("refuse %s", (_what, value, named) => {
    expect(() => render([value])).toThrow(named);
  });
});
