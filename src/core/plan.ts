// The mutation plan: from a pod, its owner, the policy and the store's key names to either the
// changes to make or a refusal listing every problem at once.

import {
  CONTAINER_FIELDS,
  type Container,
  type ContainerField,
  type Pod,
  type VolumeMount,
} from "../admission/types.js";
import {
  type FileRequest,
  grammarMessage,
  readFileRequests,
  SECRET_VOLUMES_ANNOTATION,
} from "./file-requests.js";
import { LIMITS } from "./limits.js";
import * as messages from "./messages.js";
import { type Owner, readOwner, referencedOwner, submitterProblem } from "./owner.js";
import type { Policy } from "./policy.js";
import { isReference, parseReference, type SecretRef } from "./reference.js";
import type { SecretIndex } from "./secret-index.js";
import { CONTAINER_WORDS, findStoreUses } from "./store-uses.js";
import { volumeNameFor } from "./volume-name.js";

/** Why a pod is refused; also the metrics and log label. */
export type RefusalReason =
  | "owner-invalid"
  | "no-owner"
  | "forged-owner"
  | "foreign-store"
  | "foreign-secret"
  | "wrong-cluster"
  | "invalid-reference"
  | "invalid-volumes"
  | "missing-secrets";

export interface Problem {
  code: 403 | 422;
  reason: RefusalReason;
  message: string;
}

export interface Refusal {
  kind: "refusal";
  code: 403 | 422;
  /** The first (most serious) problem's reason. */
  reason: RefusalReason;
  message: string;
  problems: Problem[];
  owner: Owner | undefined;
  /** Set when keys were missing: a fresh look at this store may change the answer. */
  missingIn: { namespace: string; store: string } | undefined;
}

export interface EnvChange {
  field: ContainerField;
  containerIndex: number;
  envIndex: number;
  name: string;
  key: string;
}

export interface MountChange {
  field: ContainerField;
  containerIndex: number;
  /** The container has no volumeMounts list yet: the patch creates it. */
  createList: boolean;
  mounts: VolumeMount[];
}

export interface Plan {
  kind: "plan";
  owner: Owner | undefined;
  store: string | undefined;
  env: EnvChange[];
  /** The secret volume to add, when files are requested and the pod lacks it. */
  volume: { name: string; store: string; createList: boolean } | undefined;
  mounts: MountChange[];
}

export interface PlanInput {
  pod: Pod;
  namespace: string;
  /** "create": init and regular containers and files; "ephemeral": only ephemeral containers' env. */
  mode: "create" | "ephemeral";
  /** The requesting identity; undefined skips the submitter check (offline "assume the owner"). */
  submitter: { username: string; groups: readonly string[] } | undefined;
}

interface EnvReference {
  ref: SecretRef;
  field: ContainerField;
  containerIndex: number;
  envIndex: number;
  name: string;
  where: string;
}

function containerFields(mode: PlanInput["mode"]): readonly ContainerField[] {
  return mode === "create" ? ["initContainers", "containers"] : ["ephemeralContainers"];
}

export function planInjection(input: PlanInput, policy: Policy, index: SecretIndex): Plan | Refusal {
  const { pod, mode } = input;
  const problems: Problem[] = [];
  const add = (code: 403 | 422, reason: RefusalReason, message: string) =>
    problems.push({ code, reason, message });

  // 1. References in env values.
  const envRefs: EnvReference[] = [];
  for (const field of containerFields(mode)) {
    (pod.spec[field] ?? []).forEach((container, containerIndex) => {
      (container.env ?? []).forEach((env, envIndex) => {
        if (env.value === undefined || !isReference(env.value)) return;
        const where = `env ${env.name} of ${CONTAINER_WORDS[field]} '${container.name}'`;
        const ref = parseReference(env.value, policy.scope);
        if (ref.kind === "grammar-error") {
          add(422, "invalid-reference", grammarMessage(where, ref, policy.scope));
          return;
        }
        envRefs.push({ ref, field, containerIndex, envIndex, name: env.name, where });
      });
    });
  }

  // 2. References in the file annotation (applied at creation only).
  const annotation = mode === "create" ? pod.metadata.annotations?.[SECRET_VOLUMES_ANNOTATION] : undefined;
  const files = readFileRequests(annotation, policy.scope);
  for (const problem of files.problems) {
    add(422, problem.kind === "grammar" ? "invalid-reference" : "invalid-volumes", problem.message);
  }

  // 3. Direct uses of store Secrets, in every container kind.
  const storeUses = findStoreUses(pod);
  const ownerReading = readOwner(pod.metadata.labels ?? {}, policy.scope);
  const hasReferences = envRefs.length > 0 || annotation !== undefined || problems.length > 0;

  // The cheap common case: nothing to resolve and nothing to check.
  if (!hasReferences && storeUses.length === 0 && ownerReading.kind === "none") {
    return { kind: "plan", owner: undefined, store: undefined, env: [], volume: undefined, mounts: [] };
  }

  let owner: Owner | undefined;
  if (ownerReading.kind === "invalid") add(403, "owner-invalid", messages.invalidOwner(ownerReading.message));
  else if (ownerReading.kind === "owner") owner = ownerReading.owner;
  else if (hasReferences) {
    const uses = [
      ...envRefs.map((r) => r.where),
      ...(annotation !== undefined ? [`annotation ${SECRET_VOLUMES_ANNOTATION}`] : []),
    ];
    add(403, "no-owner", messages.noOwner(policy.scope, uses.length > 0 ? uses : ["malformed references"]));
  }

  if (owner && input.submitter) {
    const problem = submitterProblem(input.submitter, owner, policy);
    // Someone who may not act for this owner learns nothing about the owner's store: this refusal
    // alone, decided without reading it (no missing keys, no live lookup), so neither the answer
    // nor its timing depends on what the store holds.
    if (problem) {
      const forged: Problem = { code: 403, reason: "forged-owner", message: problem };
      return { kind: "refusal", ...forged, problems: [forged], owner, missingIn: undefined };
    }
  }

  for (const use of storeUses) {
    if (owner === undefined || use.store !== owner.store) {
      add(403, "foreign-store", messages.foreignStore(use.where, use.store, use.storeOwner, owner?.display));
    }
  }

  // 4. Each reference must name the job's owner (and this cluster), and its key must exist.
  const wanted = new Set<string>();
  const checkRef = (ref: SecretRef, where: string) => {
    if (!owner) return;
    if (ref.cluster !== undefined && ref.cluster !== policy.clusterName) {
      add(422, "wrong-cluster", messages.wrongCluster(ref.text, where, ref.cluster, policy.clusterName));
      return;
    }
    const named = referencedOwner(ref, owner);
    if (named !== owner.display) {
      add(403, "foreign-secret", messages.foreignSecret(ref.text, where, named, owner.display));
      return;
    }
    wanted.add(ref.key);
  };
  for (const envRef of envRefs) checkRef(envRef.ref, envRef.where);
  files.requests.forEach((request, i) => {
    checkRef(request.ref, `annotation ${SECRET_VOLUMES_ANNOTATION}, entry ${i}`);
  });

  // 5. Files: target containers, mount paths, and the one volume per store.
  let volume: Plan["volume"];
  const mounts: MountChange[] = [];
  if (owner && files.requests.length > 0) {
    const volumeName = volumeNameFor(owner.id);
    const existing = pod.spec.volumes?.find((v) => v.name === volumeName);
    if (existing && existing.secret?.secretName !== owner.store)
      add(422, "invalid-volumes", messages.volumeNameTaken(volumeName));
    if (!existing) volume = { name: volumeName, store: owner.store, createList: pod.spec.volumes == null };
    mounts.push(...planMounts(pod, files.requests, volumeName, add));
  }

  const missing = owner ? missingKeys(wanted, index.keysOf(input.namespace, owner.store)) : [];
  if (missing.length > 0) add(422, "missing-secrets", messages.missingSecrets(missing));

  if (problems.length > 0) {
    // Forbidden problems first: they matter more than a typo.
    problems.sort((a, b) => (a.code === b.code ? 0 : a.code === 403 ? -1 : 1));
    const first = problems[0] as Problem;
    return {
      kind: "refusal",
      code: first.code,
      reason: first.reason,
      message: refusalMessage(problems),
      problems,
      owner,
      missingIn: missing.length > 0 && owner ? { namespace: input.namespace, store: owner.store } : undefined,
    };
  }

  const store = owner?.store;
  return {
    kind: "plan",
    owner,
    store,
    env: envRefs.map(({ field, containerIndex, envIndex, name, ref }) => ({
      field,
      containerIndex,
      envIndex,
      name,
      key: ref.key,
    })),
    volume,
    mounts,
  };
}

/** Every problem in one message, up to LIMITS.problemsShown; the rest are counted. */
function refusalMessage(problems: readonly Problem[]): string {
  const shown = problems.slice(0, LIMITS.problemsShown).map((p) => p.message);
  const more = problems.length - shown.length;
  if (more > 0) shown.push(`and ${more} more problem${more === 1 ? "" : "s"}`);
  return shown.join("; ");
}

function missingKeys(wanted: ReadonlySet<string>, present: ReadonlySet<string> | undefined): string[] {
  const missing: string[] = [];
  for (const key of wanted) if (!present?.has(key)) missing.push(key);
  return missing.sort();
}

/** A mount of the secret volume, by what it shows where (JSON: no separator can be forged). */
function injectedKey(mount: VolumeMount): string {
  return JSON.stringify([mount.mountPath, mount.subPath ?? null]);
}

function planMounts(
  pod: Pod,
  requests: readonly FileRequest[],
  volumeName: string,
  add: (code: 403 | 422, reason: RefusalReason, message: string) => void,
): MountChange[] {
  const byName = new Map<string, { field: ContainerField; index: number; container: Container }>();
  for (const field of CONTAINER_FIELDS) {
    if (field === "ephemeralContainers") continue;
    (pod.spec[field] ?? []).forEach((container, index) => {
      byName.set(container.name, { field, index, container });
    });
  }
  const known = [...byName.keys()];
  const regular = (pod.spec.containers ?? []).map((c) => c.name);
  // Entries × target containers is the patch's size: bound it before doing the work.
  let mountCount = 0;
  for (const request of requests) mountCount += (request.containers ?? regular).length;
  if (mountCount > LIMITS.fileMounts) {
    add(422, "invalid-volumes", messages.tooManyMounts(mountCount, LIMITS.fileMounts));
    return [];
  }
  const changes = new Map<string, MountChange>();
  // Per container, built on first use: paths already taken (existing mounts first, then each
  // request in order) and the mounts a previous invocation injected.
  const taken = new Map<string, { paths: Map<string, string>; injected: Set<string> }>();

  for (const request of requests) {
    const targets = request.containers ?? regular;
    for (const name of targets) {
      const target = byName.get(name);
      if (!target) {
        add(422, "invalid-volumes", messages.unknownContainer(name, request.source, known));
        continue;
      }
      const mount: VolumeMount = {
        name: volumeName,
        mountPath: request.mountPath,
        subPath: request.ref.key,
        readOnly: true,
      };
      let seen = taken.get(name);
      if (!seen) {
        const current = target.container.volumeMounts ?? [];
        seen = {
          paths: new Map(current.map((m) => [m.mountPath, `volume mount '${m.name}'`])),
          injected: new Set(current.filter((m) => m.name === volumeName).map((m) => injectedKey(m))),
        };
        taken.set(name, seen);
      }
      // Already injected (reinvocation): nothing to do for this one.
      if (seen.injected.has(injectedKey(mount))) continue;
      const paths = seen.paths;
      const holder = paths.get(mount.mountPath);
      if (holder !== undefined) {
        add(422, "invalid-volumes", messages.duplicateMount(mount.mountPath, name, holder, request.source));
        continue;
      }
      paths.set(mount.mountPath, request.source);
      let change = changes.get(name);
      if (!change) {
        change = {
          field: target.field,
          containerIndex: target.index,
          createList: target.container.volumeMounts == null,
          mounts: [],
        };
        changes.set(name, change);
      }
      change.mounts.push(mount);
    }
  }
  return [...changes.values()];
}
