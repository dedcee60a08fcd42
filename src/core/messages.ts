// Every message the admission core gives a job's owner, and the places in a pod they name, in one
// place (the README's error table mirrors this file, test/unit/error-table.test.ts checks it). The
// rules decide; these functions only word them. User text is quoted through clip() and lists
// through listSome(): a message stays small whatever the pod holds.
// Not here: the decoder's shape errors (src/admission/decode.ts, which imports nothing of ours)
// and the server's own 400/500 wording (src/server/review-handler.ts).

import type { ContainerField } from "../admission/types.js";
import {
  ORG_LABEL,
  PROJECT_LABEL,
  REFERENCE_PREFIX,
  SECRET_VOLUMES_ANNOTATION,
  USER_LABEL,
} from "./contract.js";
import { clip, clipWhere, LIMITS, listSome, quoted } from "./limits.js";
import type { Scope } from "./policy.js";
import type { GrammarError } from "./reference.js";

// Places in a pod, quoted in messages ("env A of container 'main'"): they hold user names, so
// messages clip them.

const CONTAINER_WORDS = {
  initContainers: "init container",
  containers: "container",
  ephemeralContainers: "ephemeral container",
} as const satisfies Record<ContainerField, string>;

export const places = {
  container: (field: ContainerField, name: string) => `${CONTAINER_WORDS[field]} '${name}'`,
  /** `container` is a place from places.container. */
  env: (name: string, container: string) => `env ${name} of ${container}`,
  envFrom: (container: string) => `envFrom of ${container}`,
  volume: (name: string) => `volume '${name}'`,
  projectedVolume: (name: string) => `projected volume '${name}'`,
  /** `field`: the volume source's field that names the Secret, as "csi.nodePublishSecretRef". */
  volumeSource: (name: string, field: string) => `volume '${name}' (${field})`,
  imagePullSecrets: () => "imagePullSecrets",
  annotation: () => `annotation ${SECRET_VOLUMES_ANNOTATION}`,
  annotationEntry: (index: number) => `annotation ${SECRET_VOLUMES_ANNOTATION}, entry ${index}`,
  /** A mount the pod already has, holding a path a secret file asks for. */
  existingMount: (name: string) => `volume mount '${name}'`,
  /** The no-owner message's place when only malformed references were found. */
  malformedReferences: () => "malformed references",
} as const;

// The request.

export function noPodObject(): string {
  return "the admission request carries no pod object";
}

export function noStoredPod(): string {
  return "the admission request for pods/ephemeralcontainers carries no oldObject (the stored pod); the owner and volumes are read from it";
}

// The reference grammar: `problem` parts of a GrammarError, then the whole message.

export const SECRET_NAME_RULE =
  "1 to 253 characters of letters, digits, '_', '.' and '-', not '.' and not starting with '..'";

export function acceptedForms(scope: Scope): string {
  return scope === "user"
    ? "secret:KEY, secret:/OWNER/KEY or secret://CLUSTER/OWNER/KEY"
    : "secret:KEY, secret:/PROJECT/KEY or secret://CLUSTER/ORG/PROJECT/KEY";
}

export function notAReference(): string {
  return `it does not start with '${REFERENCE_PREFIX}'`;
}

export function referenceTooLong(length: number): string {
  return `it is ${length} characters long, more than the limit of ${LIMITS.referenceChars} for a reference`;
}

export function emptySecretName(): string {
  return "the secret name is empty";
}

export function emptyClusterName(): string {
  return "the cluster name is empty";
}

/** A full reference (`secret://…`) with the wrong number of segments. */
export function expectedFullForm(scope: Scope): string {
  return `expected ${scope === "user" ? "secret://CLUSTER/OWNER/KEY" : "secret://CLUSTER/ORG/PROJECT/KEY"}`;
}

/** An owner reference (`secret:/…`) with the wrong number of segments. */
export function expectedOwnerForm(scope: Scope): string {
  return `expected ${scope === "user" ? "secret:/OWNER/KEY" : "secret:/PROJECT/KEY"}`;
}

export function slashInSecretName(): string {
  return "a secret name cannot contain '/'";
}

/** `what`: "owner", "project path" or "cluster name". */
export function badSegment(what: string, segment: string): string {
  return segment === "" ? `the ${what} is empty` : `the ${what} '${clip(segment)}' is not a valid name`;
}

export function secretNameBreaksRule(key: string): string {
  return `the secret name '${clip(key)}' breaks the rule: ${SECRET_NAME_RULE}`;
}

export function invalidReference(where: string, error: GrammarError, scope: Scope): string {
  return `Invalid secret reference '${clip(error.text)}' in ${clipWhere(where)}: ${error.problem}; use ${acceptedForms(scope)}`;
}

// The owner labels: `problem` parts, then the message.

export function conflictingLabels(
  firstKey: string,
  first: string,
  secondKey: string,
  second: string,
): string {
  return `the labels ${firstKey}='${clip(first)}' and ${secondKey}='${clip(second)}' name different owners; set one, or both to the same value`;
}

export function invalidUserLabel(value: string): string {
  return `the owner label ${USER_LABEL}='${clip(value)}' is not a valid owner name (lowercase letters, digits, '-', '.')`;
}

export function userLabelTooLong(): string {
  return `the owner label ${USER_LABEL} is too long to name a store`;
}

export function projectNeedsBothLabels(): string {
  return `a project job needs both labels ${ORG_LABEL} and ${PROJECT_LABEL}`;
}

export function invalidProjectLabel(label: string, value: string): string {
  return `the label ${label}='${clip(value)}' is not a valid name (lowercase letters, digits, '-', '.')`;
}

export function projectLabelsTooLong(): string {
  return "the org and project labels are too long to name a store";
}

export function invalidOwner(problem: string): string {
  return `Cannot tell this job's owner: ${problem}`;
}

/** `subject`: from subjectOf. */
export function noOwner(scope: Scope, uses: readonly string[], subject = subjectOf(undefined)): string {
  const labels =
    scope === "user" ? `the label ${USER_LABEL}` : `the labels ${ORG_LABEL} and ${PROJECT_LABEL}`;
  const shown = listSome(uses, clipWhere, 3);
  return `${subject.charAt(0).toUpperCase()}${subject.slice(1)} uses secret references (${shown}) but has no owner: ${labels} must name the job's owner, as the platform sets them`;
}

/** The submitter may not act for this owner (always the only problem reported). */
export function forgedOwner(username: string, scope: Scope, owner: string): string {
  const ownerWord = scope === "user" ? "owner" : "project";
  return `'${clip(username)}' may not submit a job for ${ownerWord} '${owner}': only the ${ownerWord === "owner" ? "owner" : "platform"} or a trusted submitter may create pods labelled for it`;
}

/** A workload's submitter may not act for the owner its pod template names (alone, likewise). */
export function forgedTemplateOwner(username: string, scope: Scope, owner: string, workload: string): string {
  const ownerWord = scope === "user" ? "owner" : "project";
  return `'${clip(username)}' may not create a ${workload} whose pod template is labelled for ${ownerWord} '${owner}': only the ${ownerWord === "owner" ? "owner" : "platform"} or a trusted submitter may create workloads labelled for it`;
}

/** What a message calls the checked object: "this pod", or "this Job's pod template". */
export function subjectOf(workload: string | undefined): string {
  return workload === undefined ? "this pod" : `this ${workload}'s pod template`;
}

// References and store uses against the owner and the store.

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
  subject = subjectOf(undefined),
): string {
  const whose = jobOwner === undefined ? `${subject} has no owner` : `this job belongs to '${jobOwner}'`;
  return `${clipWhere(where)} uses the secret store '${clip(store)}' of '${clip(storeOwner)}' directly, but ${whose}: use secret:KEY references to your own secrets instead`;
}

// The file annotation and its entries.

const ANNOTATION = places.annotation();
const ENTRY_FORMS = `"secret:KEY:/abs/path" or {"uri": "secret:KEY", "mountPath": "/abs/path", "containers": ["name"]}`;

export function annotationTooLong(length: number): string {
  return `Invalid ${ANNOTATION}: it is ${length} characters long, more than the limit of ${LIMITS.annotationChars} (the API server's own limit for all annotations together)`;
}

export function annotationNotAList(): string {
  return `Invalid ${ANNOTATION}: it must be a JSON array of ${ENTRY_FORMS}`;
}

export function tooManyEntries(count: number): string {
  return `Invalid ${ANNOTATION}: it has ${count} entries, more than the limit of ${LIMITS.annotationEntries}`;
}

export function invalidFileSpecification(entry: string, at: string): string {
  return `Invalid secret file specification '${clip(entry)}' in ${at}: use secret:KEY:/abs/path (no :ro or :rw; secret files are always read-only)`;
}

export function unknownEntryFields(source: string, at: string, fields: readonly string[]): string {
  return `Invalid secret file entry ${clip(source)} in ${at}: unknown field(s) ${listSome(fields, quoted)}; the fields are uri, mountPath and containers`;
}

export function entryFieldsNotStrings(source: string, at: string): string {
  return `Invalid secret file entry ${clip(source)} in ${at}: uri and mountPath must be strings, as in ${ENTRY_FORMS}`;
}

export function invalidEntryContainers(source: string, at: string): string {
  return `Invalid secret file entry ${clip(source)} in ${at}: containers must be a non-empty list of container names`;
}

export function invalidEntry(source: string, at: string): string {
  return `Invalid secret file entry ${clip(source)} in ${at}: use ${ENTRY_FORMS}`;
}

/** The `problem` parts of an invalid mount path. */
export const MOUNT_PATH_PROBLEMS = {
  tooLong: (length: number) =>
    `it is ${length} characters long, more than the limit of ${LIMITS.mountPathChars} for a mount path`,
  relative: () => "it must be an absolute path (start with '/')",
  parent: () => "it must not contain '..'",
  root: () => "it must name a file, not '/'",
  nul: () => "it must not contain NUL",
} as const;

export function invalidMountPath(path: string, at: string, problem: string): string {
  return `Invalid mount path '${clip(path)}' in ${at}: ${problem}`;
}

// Secret files against the pod.

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

export function tooManyMounts(count: number): string {
  return `Too many secret files: the ${ANNOTATION} asks for ${count} mounts (entries × their containers), more than the limit of ${LIMITS.fileMounts}`;
}

// The refusal as a whole.

/** Ends a refusal that lists only the first LIMITS.problemsShown problems. */
export function moreProblems(count: number): string {
  return `and ${count} more problem${count === 1 ? "" : "s"}`;
}

// Warnings: the pod is admitted (or refused for another reason), but its user should know this.

export function legacyOwnerLabel(labels: readonly string[]): string {
  return `the owner label ${listSome(labels, quoted)} uses the legacy prefix platform.neuromation.io/; use platform.apolo.us/ instead`;
}

export function subPathMounts(count: number): string {
  return `${count} secret file(s) mounted with subPath: a running container does not see later changes to the secret; restart the job to pick them up`;
}

export function didYouMean(missing: string, close: readonly string[]): string {
  return `secret ${quoted(missing)} is missing: did you mean ${listSome(close, quoted)}?`;
}
