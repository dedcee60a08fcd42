// Every message a job's owner can see, in one place (the README's error list mirrors this file).

import { ORG_LABEL, PROJECT_LABEL, USER_LABEL } from "./owner.js";
import type { Scope } from "./policy.js";

export function missingSecrets(keys: readonly string[]): string {
  return `Missing secrets: ${keys.map((key) => `'${key}'`).join(", ")}`;
}

export function foreignSecret(
  reference: string,
  where: string,
  secretOwner: string,
  jobOwner: string,
): string {
  return `Secret reference '${reference}' in ${where} names a secret of '${secretOwner}', but this job belongs to '${jobOwner}': a job can only use its owner's secrets (write secret:KEY)`;
}

export function wrongCluster(
  reference: string,
  where: string,
  cluster: string,
  configured: string | undefined,
): string {
  return configured === undefined
    ? `Secret reference '${reference}' in ${where} names cluster '${cluster}', but this webhook has no cluster name configured: write secret:KEY`
    : `Secret reference '${reference}' in ${where} names cluster '${cluster}', but this is cluster '${configured}': write secret:KEY or secret://${configured}/...`;
}

export function foreignStore(
  where: string,
  store: string,
  storeOwner: string,
  jobOwner: string | undefined,
): string {
  const whose = jobOwner === undefined ? "this pod has no owner" : `this job belongs to '${jobOwner}'`;
  return `${where} uses the secret store '${store}' of '${storeOwner}' directly, but ${whose}: use secret:KEY references to your own secrets instead`;
}

export function noOwner(scope: Scope, uses: readonly string[]): string {
  const labels =
    scope === "user" ? `the label ${USER_LABEL}` : `the labels ${ORG_LABEL} and ${PROJECT_LABEL}`;
  const shown = uses.slice(0, 3).join(", ") + (uses.length > 3 ? `, and ${uses.length - 3} more` : "");
  return `This pod uses secret references (${shown}) but has no owner: ${labels} must name the job's owner, as the platform sets them`;
}

export function invalidOwner(problem: string): string {
  return `Cannot tell this job's owner: ${problem}`;
}

export function unknownContainer(name: string, source: string, known: readonly string[]): string {
  return `Secret file entry ${source} names container '${name}', which this pod does not have (its containers: ${known.map((c) => `'${c}'`).join(", ") || "none"})`;
}

export function duplicateMount(path: string, container: string, first: string, second: string): string {
  return `Two mounts at '${path}' in container '${container}' (${first} and ${second}): give each secret file its own path`;
}

export function volumeNameTaken(name: string): string {
  return `The pod already has a volume named '${name}' that is not this job's secret store; that name is reserved for secret files, rename the volume`;
}
