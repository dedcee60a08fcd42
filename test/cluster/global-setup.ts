// vitest globalSetup of the end-to-end suite: starts a local control plane and the webhook (or
// uses the cluster named by E2E_KUBECONFIG), shares its coordinates, and always stops it.

import type { TestProject } from "vitest/node";
import type { E2EContext } from "../e2e/context.js";
import { USERS } from "./control-plane.js";
import { type LocalCluster, startLocalCluster, stopLocalCluster } from "./harness.js";
import { CLUSTER_NAME, SERVED_NAMESPACE_LABEL, WEBHOOK_NAMESPACE } from "./webhook.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.E2E_KUBECONFIG;
  if (external) {
    const context: E2EContext = {
      mode: "external",
      adminKubeconfig: external,
      kubeconfigs: undefined,
      users: { platform: USERS.platform.name, alice: USERS.alice.name, bob: USERS.bob.name },
      clusterName: process.env.E2E_CLUSTER_NAME ?? CLUSTER_NAME,
      servedLabel: SERVED_NAMESPACE_LABEL,
      webhookNamespace: process.env.E2E_WEBHOOK_NAMESPACE ?? WEBHOOK_NAMESPACE,
      local: undefined,
    };
    project.provide("e2e", context);
    return async () => {};
  }
  const log = (line: string) => process.stdout.write(`[cluster] ${line}\n`);
  let cluster: LocalCluster | undefined = await startLocalCluster(log);
  const context: E2EContext = {
    mode: "local",
    adminKubeconfig: cluster.plane.kubeconfigs.admin,
    kubeconfigs: cluster.plane.kubeconfigs,
    users: { platform: USERS.platform.name, alice: USERS.alice.name, bob: USERS.bob.name },
    clusterName: CLUSTER_NAME,
    servedLabel: SERVED_NAMESPACE_LABEL,
    webhookNamespace: WEBHOOK_NAMESPACE,
    local: { plane: cluster.plane, webhook: cluster.webhook },
  };
  project.provide("e2e", context);
  return async () => {
    if (cluster) await stopLocalCluster(cluster, { keepDir: process.env.E2E_KEEP === "1" });
    cluster = undefined;
  };
}
