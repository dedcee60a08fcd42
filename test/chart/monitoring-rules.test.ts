// The chart's alerting rules as Prometheus sees them: rendered by helm (the rule file with its
// placeholders filled), checked by `promtool check rules`, and unit-tested by `promtool test rules`
// on the series fixtures of test/monitoring/ (each alert fires on its failure and stays silent on a
// healthy webhook). The dashboard's queries are checked as PromQL by promtool too.

import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { toolsCacheDir } from "../cluster/control-plane.js";
import { CHART, find, render } from "./helm.js";

const FIXTURES = join(import.meta.dirname, "../monitoring");
const TEST_FILE = "alerts.test.yaml";

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
type Groups = Array<{ name: string; rules: Rule[] }>;

function promtoolBin(): string {
  const file = join(toolsCacheDir(), "versions.env");
  const line = existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .find((l) => l.startsWith("PROMTOOL_BIN="))
    : undefined;
  const bin = line?.slice("PROMTOOL_BIN=".length);
  if (!bin || !existsSync(bin))
    throw new Error(`promtool is missing (no PROMTOOL_BIN in ${file}); run 'make cluster-tools'`);
  return bin;
}

function promtool(args: string[], cwd: string): { ok: boolean; output: string } {
  try {
    const stdout = execFileSync(promtoolBin(), args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { ok: true, output: stdout };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    if (e.stdout === undefined) throw error;
    return { ok: false, output: `${e.stdout}${e.stderr ?? ""}` };
  }
}

/** The rule groups the chart ships for this release, as a PrometheusRule's spec holds them. */
function renderedGroups(values: string[] = []): Groups {
  const manifests = render(["metrics.prometheusRule.enabled=true", ...values], "platform", "asw");
  return (find(manifests, "PrometheusRule").spec as { groups: Groups }).groups;
}

/** A directory with the rendered rules as rules.yaml and the fixtures beside them. */
function ruleDir(groups: Groups): string {
  const dir = mkdtempSync(join(tmpdir(), "apolo-rules-"));
  writeFileSync(join(dir, "rules.yaml"), stringify({ groups }));
  copyFileSync(join(FIXTURES, TEST_FILE), join(dir, TEST_FILE));
  return dir;
}

const dirs: string[] = [];
let groups: Groups;
let dir: string;

beforeAll(() => {
  promtoolBin();
  groups = renderedGroups();
  dir = ruleDir(groups);
  dirs.push(dir);
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const rules = () => groups.flatMap((group) => group.rules);

describe("the chart's alerting rules", () => {
  it("pass promtool check rules", () => {
    const result = promtool(["check", "rules", "rules.yaml"], dir);
    expect(result.output).toContain(`SUCCESS: ${rules().length} rules found`);
    expect(result.ok, result.output).toBe(true);
    expect(rules().length).toBeGreaterThanOrEqual(7);
  });

  it("fire on the fixtures' failures and stay silent on a healthy webhook (promtool test rules)", () => {
    const result = promtool(["test", "rules", TEST_FILE], dir);
    expect(result.ok, result.output).toBe(true);
    expect(result.output).toContain("SUCCESS");
  });

  it("each have a fixture where they fire and the healthy one where they do not", () => {
    const tests = (
      parse(readFileSync(join(FIXTURES, TEST_FILE), "utf8")) as {
        tests: Array<{ name: string; alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
      }
    ).tests;
    const healthy = tests.find((t) => t.name === "a healthy webhook raises no alert");
    const silent = new Set(
      healthy?.alert_rule_test.map((c) => (c.exp_alerts.length === 0 ? c.alertname : "")),
    );
    const fired = new Set(
      tests.flatMap((t) => t.alert_rule_test.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname)),
    );
    const names = rules().map((rule) => rule.alert);
    expect(names.filter((name) => !silent.has(name))).toEqual([]);
    expect(names.filter((name) => !fired.has(name))).toEqual([]);
  });

  it("each carry a severity, a summary, a description and a runbook, and no unfilled placeholder", () => {
    for (const rule of rules()) {
      expect(["critical", "warning"], rule.alert).toContain(rule.labels?.severity);
      for (const key of ["summary", "description", "runbook"])
        expect(rule.annotations?.[key]?.length ?? 0, `${rule.alert} ${key}`).toBeGreaterThan(20);
    }
    expect(JSON.stringify(groups)).not.toContain("__");
    expect(JSON.stringify(groups)).toContain('job=\\"asw-apolo-secrets-webhook\\",namespace=\\"platform\\"');
  });

  it("compare p99 latency with webhook.timeoutSeconds: the fixtures' 29.8 s fires at 5 s, not at 30 s", () => {
    const slow = (g: Groups) =>
      g.flatMap((group) => group.rules).find((r) => r.alert.endsWith("SlowAdmissions"));
    expect(slow(groups)?.expr.trim().endsWith("> 5")).toBe(true);
    const relaxed = renderedGroups(["webhook.timeoutSeconds=30"]);
    expect(slow(relaxed)?.expr.trim().endsWith("> 30")).toBe(true);
    expect(slow(relaxed)?.annotations?.description).toContain("over the 30 s the API server waits");
    const relaxedDir = ruleDir(relaxed);
    dirs.push(relaxedDir);
    // The same fixtures now expect an alert that cannot fire: promtool must say so.
    const result = promtool(["test", "rules", TEST_FILE], relaxedDir);
    expect(result.ok).toBe(false);
    expect(result.output).toContain("ApoloSecretsWebhookSlowAdmissions");
  });

  it("select the job given by metrics.prometheusRule.selector instead of the ServiceMonitor's", () => {
    const custom = renderedGroups(['metrics.prometheusRule.selector=job="secrets-webhook"']);
    const exprs = custom.flatMap((g) => g.rules.map((r) => r.expr)).join("\n");
    expect(exprs).not.toContain("asw-apolo-secrets-webhook");
    expect(exprs).toContain('up{job="secrets-webhook"}');
    const customDir = ruleDir(custom);
    dirs.push(customDir);
    expect(promtool(["check", "rules", "rules.yaml"], customDir).ok).toBe(true);
  });
});

describe("the chart's dashboard queries", () => {
  it("are valid PromQL (promtool check rules on them as recording rules)", () => {
    const dashboard = JSON.parse(readFileSync(join(CHART, "files/grafana-dashboard.json"), "utf8")) as {
      panels: Array<{ targets?: Array<{ expr: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
    expect(exprs.length).toBeGreaterThanOrEqual(10);
    // Grafana's variables as it would substitute them.
    const recording = exprs.map((expr, i) => ({
      record: `dashboard:query_${i}`,
      expr: expr
        .replaceAll("$__rate_interval", "5m")
        .replaceAll("$namespace", "platform")
        .replaceAll("$job", "asw-apolo-secrets-webhook"),
    }));
    const queryDir = mkdtempSync(join(tmpdir(), "apolo-dashboard-"));
    dirs.push(queryDir);
    writeFileSync(
      join(queryDir, "queries.yaml"),
      stringify({ groups: [{ name: "dashboard", rules: recording }] }),
    );
    const result = promtool(["check", "rules", "queries.yaml"], queryDir);
    expect(result.ok, result.output).toBe(true);
    expect(result.output).toContain(`SUCCESS: ${exprs.length} rules found`);
  });
});
