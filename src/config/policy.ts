// The admission Policy, built in one place from the settings `serve` and `mutate` share.

import type { IdentityRule } from "../core/identity.js";
import type { Policy } from "../core/policy.js";

export type PolicySettings = Pick<Policy, "scope" | "clusterName"> & {
  trustedUsers: readonly string[];
  trustedGroups: readonly string[];
  trustedControllers: readonly string[];
  identity: IdentityRule;
};

export function policyOf(settings: PolicySettings): Policy {
  return {
    scope: settings.scope,
    clusterName: settings.clusterName,
    trustedUsers: new Set(settings.trustedUsers),
    trustedGroups: new Set(settings.trustedGroups),
    trustedControllers: new Set(settings.trustedControllers),
    identity: settings.identity,
  };
}
