// Owner rules: who a job belongs to (from platform-set labels only), which store holds its
// secrets, and whether a reference's owner path names that same owner.

import { between, isDnsSubdomain } from "./charset.js";
import { clip } from "./limits.js";
import type { Policy, Scope } from "./policy.js";
import type { SecretRef } from "./reference.js";

export const LABEL_PREFIXES = ["platform.apolo.us/", "platform.neuromation.io/"] as const;
export const USER_LABEL = "platform.apolo.us/user";
export const ORG_LABEL = "platform.apolo.us/org";
export const PROJECT_LABEL = "platform.apolo.us/project";

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
      conflict: `the labels ${first.key}='${clip(first.value ?? "")}' and ${differing.key}='${clip(differing.value ?? "")}' name different owners; set one, or both to the same value`,
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
  const invalid = (message: string): OwnerReading => ({ kind: "invalid", message });
  if (scope === "user") {
    const user = labelValue(labels, "user");
    if (user.conflict) return invalid(user.conflict);
    if (user.value === undefined) return { kind: "none" };
    if (!isStorePart(user.value)) {
      return invalid(
        `the owner label ${USER_LABEL}='${clip(user.value)}' is not a valid owner name (lowercase letters, digits, '-', '.')`,
      );
    }
    const store = userStoreName(user.value);
    if (store.length > 253) return invalid(`the owner label ${USER_LABEL} is too long to name a store`);
    return {
      kind: "owner",
      owner: { scope, id: user.value, display: user.value.replaceAll("--", "/"), store },
    };
  }
  const org = labelValue(labels, "org");
  const project = labelValue(labels, "project");
  if (org.conflict) return invalid(org.conflict);
  if (project.conflict) return invalid(project.conflict);
  if (org.value === undefined && project.value === undefined) return { kind: "none" };
  if (org.value === undefined || project.value === undefined) {
    return invalid(`a project job needs both labels ${ORG_LABEL} and ${PROJECT_LABEL}`);
  }
  for (const [label, value] of [
    [ORG_LABEL, org.value],
    [PROJECT_LABEL, project.value],
  ] as const) {
    if (!isStorePart(value) || value.includes("--")) {
      return invalid(
        `the label ${label}='${clip(value)}' is not a valid name (lowercase letters, digits, '-', '.')`,
      );
    }
  }
  const store = projectStoreName(org.value, project.value);
  if (store.length > 253) return invalid("the org and project labels are too long to name a store");
  return {
    kind: "owner",
    owner: {
      scope,
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
 * May this identity create a pod for this owner? The owner may submit for themself (user scope);
 * trusted submitters (the platform) may submit for anyone. Returns a refusal message or undefined.
 */
export function submitterProblem(
  identity: { username: string; groups: readonly string[] },
  owner: Owner,
  policy: Policy,
): string | undefined {
  if (policy.trustedUsers.has(identity.username)) return undefined;
  if (identity.groups.some((group) => policy.trustedGroups.has(group))) return undefined;
  // Only the slash form: a user literally named 'a--b' is not the owner 'a/b' ('--' separates parts).
  if (owner.scope === "user" && identity.username === owner.display) return undefined;
  const ownerWord = owner.scope === "user" ? "owner" : "project";
  return `'${clip(identity.username)}' may not submit a job for ${ownerWord} '${owner.display}': only the ${ownerWord === "owner" ? "owner" : "platform"} or a trusted submitter may create pods labelled for it`;
}
