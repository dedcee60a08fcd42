// Owner rules: who a job belongs to (from platform-set labels only), which store holds its
// secrets, and whether a reference's owner path names that same owner.

import { between, isDnsSubdomain } from "./charset.js";
import { LABEL_PREFIXES, ORG_LABEL, PROJECT_LABEL } from "./contract.js";
import { NAMES_AS_THEY_ARE, userIsOwner } from "./identity.js";
import * as messages from "./messages.js";
import type { Policy, Scope } from "./policy.js";
import type { SecretRef } from "./reference.js";

/** The job's owner. `id` is the store-name form ("/" written "--"); `display` is the slash form. */
export interface Owner {
  scope: Scope;
  id: string;
  display: string;
  /** The project scope's org, for references that imply it. */
  org?: string;
  store: string;
}

export type OwnerReading =
  | { kind: "owner"; owner: Owner }
  | { kind: "none" }
  | { kind: "invalid"; message: string };

// A Secret name is a DNS subdomain: the owner part must keep the store name valid.
const isStorePart = isDnsSubdomain;

function labelValue(
  labels: Readonly<Record<string, string>>,
  name: string,
): { value?: string; conflict?: string } {
  const values = LABEL_PREFIXES.map((prefix) => ({
    key: prefix + name,
    value: labels[prefix + name],
  })).filter((entry) => entry.value !== undefined);
  const first = values[0];
  if (!first) return {};
  const differing = values.find((entry) => entry.value !== first.value);
  if (differing) {
    return {
      conflict: messages.conflictingLabels(
        first.key,
        first.value ?? "",
        differing.key,
        differing.value ?? "",
      ),
    };
  }
  return { value: first.value };
}

export function userStoreName(ownerId: string): string {
  return `user--${ownerId}--secrets`;
}

export function projectStoreName(org: string, project: string): string {
  return `project--${org}--${project}--secrets`;
}

/** Reads the owner from the pod's labels (never annotations: users can edit those freely). */
export function readOwner(labels: Readonly<Record<string, string>>, scope: Scope): OwnerReading {
  return scope === "user" ? readUserOwner(labels) : readProjectOwner(labels);
}

function invalid(message: string): OwnerReading {
  return { kind: "invalid", message };
}

function readUserOwner(labels: Readonly<Record<string, string>>): OwnerReading {
  const user = labelValue(labels, "user");
  if (user.conflict) return invalid(user.conflict);
  if (user.value === undefined) return { kind: "none" };
  if (!isStorePart(user.value)) return invalid(messages.invalidUserLabel(user.value));
  const store = userStoreName(user.value);
  if (store.length > 253) return invalid(messages.userLabelTooLong());
  return {
    kind: "owner",
    owner: { scope: "user", id: user.value, display: user.value.replaceAll("--", "/"), store },
  };
}

function readProjectOwner(labels: Readonly<Record<string, string>>): OwnerReading {
  const org = labelValue(labels, "org");
  const project = labelValue(labels, "project");
  if (org.conflict) return invalid(org.conflict);
  if (project.conflict) return invalid(project.conflict);
  if (org.value === undefined && project.value === undefined) return { kind: "none" };
  if (org.value === undefined || project.value === undefined) {
    return invalid(messages.projectNeedsBothLabels());
  }
  for (const [label, value] of [
    [ORG_LABEL, org.value],
    [PROJECT_LABEL, project.value],
  ] as const) {
    if (!isStorePart(value) || value.includes("--"))
      return invalid(messages.invalidProjectLabel(label, value));
  }
  const store = projectStoreName(org.value, project.value);
  if (store.length > 253) return invalid(messages.projectLabelsTooLong());
  return {
    kind: "owner",
    owner: {
      scope: "project",
      id: `${org.value}--${project.value}`,
      display: `${org.value}/${project.value}`,
      org: org.value,
      store,
    },
  };
}

/** The owner a reference names, in slash form; undefined when it names the job's own owner implicitly. */
export function referencedOwner(ref: SecretRef, owner: Owner): string {
  if (ref.ownerPath.length === 0) return owner.display;
  if (owner.scope === "project" && ref.ownerPath.length === 1)
    return `${owner.org ?? ""}/${ref.ownerPath[0]}`;
  return ref.ownerPath.join("/");
}

/** The owner a store name belongs to, in slash form, or undefined when the name is not a store's. */
export function storeOwner(secretName: string): string | undefined {
  const owner = between(secretName, "user--", "--secrets") ?? between(secretName, "project--", "--secrets");
  return owner?.replaceAll("--", "/");
}

/**
 * May this identity create a pod for this owner? The owner may submit for themself (user scope):
 * the submitter whose user name the identity rule maps to the owner, as the secrets API maps its
 * callers; trusted submitters (the platform) may submit for anyone. A refusal message or undefined.
 */
export function submitterProblem(
  identity: { username: string; groups: readonly string[] },
  owner: Owner,
  policy: Policy,
  /** The workload kind ("Job") when this is a workload's pod template; undefined for a pod. */
  workload?: string,
): string | undefined {
  if (policy.trustedUsers.has(identity.username)) return undefined;
  if (policy.trustedControllers.has(identity.username)) return undefined;
  if (identity.groups.some((group) => policy.trustedGroups.has(group))) return undefined;
  // Only the slash form: a user literally named 'a--b' is not the owner 'a/b' ('--' separates parts).
  const rule = policy.identity ?? NAMES_AS_THEY_ARE;
  if (owner.scope === "user" && userIsOwner(identity.username, owner.display, rule)) return undefined;
  return workload === undefined
    ? messages.forgedOwner(identity.username, owner.scope, owner.display)
    : messages.forgedTemplateOwner(identity.username, owner.scope, owner.display, workload);
}
