// One local cluster for a test run or the demo: control plane, webhook process, registration.
// Everything it starts is recorded for the watchdog and stopped by stopLocalCluster.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ControlPlane, startControlPlane } from "./control-plane.js";
import { stopIdentityProvider } from "./identity-provider.js";
import { startWatchdog, stopAll } from "./processes.js";
import { launchWebhook, registerWebhook, type WebhookProcess } from "./webhook.js";

export interface LocalCluster {
  dir: string;
  plane: ControlPlane;
  webhook: WebhookProcess;
}

/**
 * `clientAuth: false` runs the webhook without client authentication (load generators that cannot
 * present a certificate); `webhookArgs` are more arguments of the webhook (`make up` trusts an admin group).
 */
export async function startLocalCluster(
  log: (line: string) => void,
  options: { clientAuth?: boolean; webhookArgs?: readonly string[]; webhookEnv?: NodeJS.ProcessEnv } = {},
): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), "apolo-cluster-"));
  const pidFile = join(dir, "pids");
  startWatchdog(dir, pidFile);
  try {
    const started = Date.now();
    const plane = await startControlPlane(dir, pidFile, log);
    log(`control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const { webhook } = await launchWebhook(plane, "webhook", {
      clientAuth: options.clientAuth ?? true,
      adjust: (prepared) => {
        prepared.args.push(...(options.webhookArgs ?? []));
        if (options.webhookEnv) prepared.env = options.webhookEnv;
      },
    });
    log(`webhook serving on ${webhook.url}${webhook.client ? " (client certificates required)" : ""}`);
    await registerWebhook(plane, webhook);
    log("webhook registered: the API server calls it");
    return { dir, plane, webhook };
  } catch (error) {
    await stopAll(pidFile);
    throw error;
  }
}

export async function stopLocalCluster(
  cluster: LocalCluster,
  options: { keepDir?: boolean } = {},
): Promise<void> {
  await stopAll(cluster.plane.pidFile);
  await stopIdentityProvider(cluster.plane.identityProvider);
  if (!options.keepDir) rmSync(cluster.dir, { recursive: true, force: true });
}
