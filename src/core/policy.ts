// What the operator decides: the store model, the cluster name, and who may submit for others.

/** "user": one store per user (user--{owner}--secrets); "project": one per project. */
export type Scope = "user" | "project";

export interface Policy {
  scope: Scope;
  /** The name full references (secret://CLUSTER/...) must carry; undefined refuses every full reference. */
  clusterName: string | undefined;
  /** Submitters (request.userInfo) allowed to create pods for any owner, e.g. the platform's service account. */
  trustedUsers: ReadonlySet<string>;
  trustedGroups: ReadonlySet<string>;
}
