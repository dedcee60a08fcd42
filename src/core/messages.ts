// Every message a job's owner can see, in one place (the README's error list mirrors this file).
// User text is quoted through clip() and lists through listSome(): a message stays small
// whatever the pod holds.

import { clip, clipWhere, listSome, quoted } from "./limits.js";
import { ORG_LABEL, PROJECT_LABEL, USER_LABEL } from "./owner.js";
import type { Scope } from "./policy.js";

export function missingSecrets(keys: readonly string[]): string {
  // Keys passed the name rule (at most 253 characters): quoted whole, only their number is bounded.
  return `Missing secrets: ${listSome(keys, (key) => `'${key}'`)}`;
}

export function foreignSecret(
  reference: string,
  where: string,
  secretOwner: string,
  jobOwner: string,
): string {
  return `Secret reference '${clip(reference)}' in ${clipWhere(where)} names a secret of '${clip(secretOwner)}', but this job belongs to '${jobOwner}': a job can only use its owner's secrets (write secret:KEY)`;
}

export function wrongCluster(
  reference: string,
  where: string,
  cluster: string,
  configured: string | undefined,
): string {
  return configured === undefined
    ? `Secret reference '${clip(reference)}' in ${clipWhere(where)} names cluster '${clip(cluster)}', but this webhook has no cluster name configured: write secret:KEY`
    : `Secret reference '${clip(reference)}' in ${clipWhere(where)} names cluster '${clip(cluster)}', but this is cluster '${configured}': write secret:KEY or secret://${configured}/...`;
}

export function foreignStore(
  where: string,
  store: string,
  storeOwner: string,
  jobOwner: string | undefined,
): string {
  const whose = jobOwner === undefined ? "this pod has no owner" : `this job belongs to '${jobOwner}'`;
  return `${clipWhere(where)} uses the secret store '${clip(store)}' of '${clip(storeOwner)}' directly, but ${whose}: use secret:KEY references to your own secrets instead`;
}

export function noOwner(scope: Scope, uses: readonly string[]): string {
  const labels =
    scope === "user" ? `the label ${USER_LABEL}` : `the labels ${ORG_LABEL} and ${PROJECT_LABEL}`;
  const shown = listSome(uses, clipWhere, 3);
  return `This pod uses secret references (${shown}) but has no owner: ${labels} must name the job's owner, as the platform sets them`;
}

export function invalidOwner(problem: string): string {
  return `Cannot tell this job's owner: ${problem}`;
}

export function unknownContainer(name: string, source: string, known: readonly string[]): string {
  const containers = listSome(known, quoted) || "none";
  return `Secret file entry ${clip(source)} names container ${quoted(name)}, which this pod does not have (its containers: ${containers})`;
}

export function duplicateMount(path: string, container: string, first: string, second: string): string {
  return `Two mounts at ${quoted(path)} in container ${quoted(container)} (${clip(first)} and ${clip(second)}): give each secret file its own path`;
}

export function volumeNameTaken(name: string): string {
  return `The pod already has a volume named '${name}' that is not this job's secret store; that name is reserved for secret files, rename the volume`;
}

export function tooManyMounts(count: number, limit: number): string {
  return `Too many secret files: the annotation platform.apolo.us/secret-volumes asks for ${count} mounts (entries × their containers), more than the limit of ${limit}`;
}
