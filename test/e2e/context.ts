// What the end-to-end tests know about the cluster under test, shared by globalSetup.

import type { ControlPlane } from "../cluster/control-plane.js";
import type { WebhookProcess } from "../cluster/webhook.js";

export interface E2EContext {
  /** "local": the project's own control plane; "external": any cluster through E2E_KUBECONFIG. */
  mode: "local" | "external";
  adminKubeconfig: string;
  /** Client-certificate kubeconfigs per user (local); external mode impersonates instead. */
  kubeconfigs: Record<string, string> | undefined;
  users: { platform: string; alice: string; bob: string };
  clusterName: string;
  servedLabel: string;
  webhookNamespace: string;
  local: { plane: ControlPlane; webhook: WebhookProcess } | undefined;
}

declare module "vitest" {
  export interface ProvidedContext {
    e2e: E2EContext;
  }
}
