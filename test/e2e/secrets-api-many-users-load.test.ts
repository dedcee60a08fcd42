// The secrets API's body budget under load from many platform users at once. Since one caller
// may have only one largest body declared in flight (body-gate.ts), hostile-load.test.ts's 60
// parallel adds by one user are mostly refused by that per-caller cap before any byte is read;
// here 20 users send 3 adds of 900 KiB each at once, so about 20 bodies of 1.2 MB are read together
// and only the in-flight budget, counted as bytes arrive, keeps the process within the chart's
// memory limit.

import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { describe, expect, it } from "vitest";
import { find, render } from "../chart/helm.js";
import { stopProcess } from "../cluster/processes.js";
import { freshUser, postSecretStatus, startSecretsApi } from "../cluster/secrets-api.js";
import { e2e, freshNamespace } from "./support.js";

const local = e2e().local;

/** The chart's NODE_OPTIONS for the secrets API container. */
function chartApiNodeOptions(): string {
  const manifests = render(["api.enabled=true", "api.namespace=platform-jobs"]);
  const deployment = find(manifests, "Deployment", "asw-apolo-secrets-webhook-api").spec as {
    template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } };
  };
  const env = deployment.template.spec.containers[0]?.env ?? [];
  return env.find((e) => e.name === "NODE_OPTIONS")?.value ?? "";
}

describe.runIf(local !== undefined)("the secrets API's body budget with many users", () => {
  it("20 users × 3 parallel 900 KiB adds: every add answered 201 or 429, under the chart's 256Mi", async () => {
    if (!local) return;
    const ns = await freshNamespace("api-many-users");
    const nodeOptions = chartApiNodeOptions();
    expect(nodeOptions).toContain("--max-old-space-size=");
    const api = await startSecretsApi(local.plane, ns, { ...process.env, NODE_OPTIONS: nodeOptions });
    const users = Array.from({ length: 20 }, () => freshUser(local.plane, "load"));
    const agent = new Agent({ keepAlive: true, maxSockets: 100, ca: readFileSync(api.caFile) });
    try {
      const value = Buffer.alloc(900 * 1024, 7).toString("base64");
      const post = (token: string, i: number) => postSecretStatus(api.url, agent, token, `big${i}`, value);
      const statuses = await Promise.all(users.flatMap((user) => [0, 1, 2].map((i) => post(user.token, i))));
      const status = readFileSync(`/proc/${api.managed.pid}/status`, "utf8");
      const peak =
        Number(
          status
            .split("\n")
            .find((line) => line.startsWith("VmHWM:"))
            ?.split(/\s+/)[1],
        ) * 1024;
      const counts = new Map<number | string, number>();
      for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
      process.stdout.write(
        `[many-users-load] secrets API peak RSS ${(peak / 1e6).toFixed(0)} MB; ${JSON.stringify([...counts])}\n`,
      );
      expect(
        statuses.every((s) => s === 201 || s === 429),
        JSON.stringify(statuses),
      ).toBe(true);
      // Some adds get through; the rest are refused by the per-caller cap or, mid-body, by the budget.
      expect(counts.get(201) ?? 0).toBeGreaterThan(0);
      expect(peak).toBeLessThan(256 * 1024 * 1024);
    } finally {
      agent.destroy();
      await stopProcess(local.plane.pidFile, "secrets-api");
    }
  }, 180_000);
});
