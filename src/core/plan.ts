// The mutation plan: from a pod, its owner, the policy and the store's key names to either the
// changes to make or a refusal listing every problem at once. Each step (references, owner, store
// uses, files, keys) returns its problems; this file runs them in order and gathers the answer.

import type { ContainerField, Pod, VolumeMount } from "../admission/types.js";
import { planFiles } from "./file-mounts.js";
import { LIMITS } from "./limits.js";
import * as messages from "./messages.js";
import { type Owner, type OwnerReading, readOwner, submitterProblem } from "./owner.js";
import {
  checkReferences,
  type EnvReference,
  findReferences,
  hasReferences,
  type PlanMode,
  type PodReferences,
  referencePlaces,
} from "./pod-references.js";
import type { Policy, Scope } from "./policy.js";
import { type Problem, problem, type RefusalReason } from "./problem.js";
import type { SecretIndex } from "./secret-index.js";
import { findStoreUses, type StoreUse } from "./store-uses.js";

export type { Problem, RefusalReason } from "./problem.js";

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
  /** Key names the pod asked for and the ones the store lacks; empty on a forged owner. */
  keys: string[];
  missing: string[];
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
  /** Key names the pod asked for, sorted: for the audit log. */
  keys: string[];
}

export interface PlanInput {
  pod: Pod;
  namespace: string;
  /** "create": init and regular containers and files; "ephemeral": only ephemeral containers' env. */
  mode: PlanMode;
  /** The requesting identity; undefined skips the submitter check (offline "assume the owner"). */
  submitter: { username: string; groups: readonly string[] } | undefined;
  /** The workload kind ("Job") when `pod` is a workload's pod template: messages name it. */
  workload?: string;
}

export function planInjection(input: PlanInput, policy: Policy, index: SecretIndex): Plan | Refusal {
  const { pod, namespace } = input;
  const refs = findReferences(pod, input.mode, policy.scope);
  const storeUses = findStoreUses(pod);
  const reading = readOwner(pod.metadata.labels ?? {}, policy.scope);
  const referenced = hasReferences(refs);
  // The cheap common case: nothing to resolve and nothing to check.
  if (!referenced && storeUses.length === 0 && reading.kind === "none") return emptyPlan();

  const subject = messages.subjectOf(input.workload);
  const decided = decideOwner(reading, referenced ? refs : undefined, policy.scope, subject);
  const owner = decided.owner;
  // Someone who may not act for this owner learns nothing about the owner's store: this refusal
  // alone, decided without reading it (no missing keys, no live lookup), so neither the answer
  // nor its timing depends on what the store holds.
  const forged =
    owner && input.submitter ? forgedOwner(input.submitter, owner, policy, input.workload) : undefined;
  if (forged) return forged;

  const checked = owner
    ? checkReferences(refs, owner, policy.clusterName)
    : { wanted: new Set<string>(), problems: [] };
  const files = owner ? planFiles(pod, refs.files, owner) : { volume: undefined, mounts: [], problems: [] };
  const missing = owner ? missingKeys(checked.wanted, index.keysOf(namespace, owner.store)) : [];
  // The message lists problems in this order (forbidden ones first): keep it stable.
  const problems = [
    ...refs.problems,
    ...decided.problems,
    ...foreignStores(storeUses, owner, subject),
    ...checked.problems,
    ...files.problems,
    ...(missing.length > 0 ? [problem(422, "missing-secrets", messages.missingSecrets(missing))] : []),
  ];
  if (problems.length > 0) {
    const missingIn = missing.length > 0 && owner ? { namespace, store: owner.store } : undefined;
    return { ...refusal(problems, owner, missingIn), keys: [...checked.wanted].sort(), missing };
  }
  return {
    kind: "plan",
    owner,
    store: owner?.store,
    env: refs.env.map(toEnvChange),
    volume: files.volume,
    mounts: files.mounts,
    keys: [...checked.wanted].sort(),
  };
}

function emptyPlan(): Plan {
  return {
    kind: "plan",
    owner: undefined,
    store: undefined,
    env: [],
    volume: undefined,
    mounts: [],
    keys: [],
  };
}

/** The job's owner from its labels; without one, a pod that uses references is refused. */
function decideOwner(
  reading: OwnerReading,
  refs: PodReferences | undefined,
  scope: Scope,
  subject: string,
): { owner: Owner | undefined; problems: Problem[] } {
  if (reading.kind === "owner") return { owner: reading.owner, problems: [] };
  if (reading.kind === "invalid") {
    return {
      owner: undefined,
      problems: [problem(403, "owner-invalid", messages.invalidOwner(reading.message))],
    };
  }
  if (refs === undefined) return { owner: undefined, problems: [] };
  // Worded only here: a pod with an owner never needs the list of its references' places.
  const uses = referencePlaces(refs);
  const shown = uses.length > 0 ? uses : [messages.places.malformedReferences()];
  return { owner: undefined, problems: [problem(403, "no-owner", messages.noOwner(scope, shown, subject))] };
}

/** The refusal of a submitter who may not act for this owner, alone; undefined when they may. */
function forgedOwner(
  submitter: { username: string; groups: readonly string[] },
  owner: Owner,
  policy: Policy,
  workload: string | undefined,
): Refusal | undefined {
  const message = submitterProblem(submitter, owner, policy, workload);
  if (message === undefined) return undefined;
  const forged = problem(403, "forged-owner", message);
  return {
    kind: "refusal",
    ...forged,
    problems: [forged],
    owner,
    missingIn: undefined,
    keys: [],
    missing: [],
  };
}

/** A pod may use a store Secret directly only when it is its own owner's store. */
function foreignStores(uses: readonly StoreUse[], owner: Owner | undefined, subject: string): Problem[] {
  return uses
    .filter((use) => owner === undefined || use.store !== owner.store)
    .map((use) =>
      problem(
        403,
        "foreign-store",
        messages.foreignStore(use.where, use.store, use.storeOwner, owner?.display, subject),
      ),
    );
}

function toEnvChange({ field, containerIndex, envIndex, name, ref }: EnvReference): EnvChange {
  return { field, containerIndex, envIndex, name, key: ref.key };
}

function refusal(
  problems: Problem[],
  owner: Owner | undefined,
  missingIn: Refusal["missingIn"],
): Omit<Refusal, "keys" | "missing"> {
  // Forbidden problems first: they matter more than a typo.
  problems.sort((a, b) => (a.code === b.code ? 0 : a.code === 403 ? -1 : 1));
  const first = problems[0] as Problem;
  const { code, reason } = first;
  return { kind: "refusal", code, reason, message: refusalMessage(problems), problems, owner, missingIn };
}

/** Every problem in one message, up to LIMITS.problemsShown; the rest are counted. */
function refusalMessage(problems: readonly Problem[]): string {
  const shown = problems.slice(0, LIMITS.problemsShown).map((p) => p.message);
  const more = problems.length - shown.length;
  if (more > 0) shown.push(messages.moreProblems(more));
  return shown.join("; ");
}

function missingKeys(wanted: ReadonlySet<string>, present: ReadonlySet<string> | undefined): string[] {
  const missing: string[] = [];
  for (const key of wanted) if (!present?.has(key)) missing.push(key);
  return missing.sort();
}
