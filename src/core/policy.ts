// What the operator decides: the store model, the cluster name, who may submit for others, and
// which owner a submitter's user name stands for.

import type { IdentityRule } from "./identity.js";

/** "user": one store per user (user--{owner}--secrets); "project": one per project. */
export type Scope = "user" | "project";

export interface Policy {
  scope: Scope;
  /** The name full references (secret://CLUSTER/...) must carry; undefined refuses every full reference. */
  clusterName: string | undefined;
  /** Submitters (request.userInfo) allowed to create pods for any owner, e.g. the platform's service account. */
  trustedUsers: ReadonlySet<string>;
  trustedGroups: ReadonlySet<string>;
  /**
   * The built-in controllers' users (kube-controller-manager's service accounts): they pass the
   * submitter check, for pods and for the workloads they create (a CronJob's Jobs, a Deployment's
   * ReplicaSets), because the template they copy was checked when a person wrote it.
   */
  trustedControllers: ReadonlySet<string>;
  /** Which owner a submitter's user name stands for (src/core/identity.ts); absent: names as they are. */
  identity?: IdentityRule;
}
