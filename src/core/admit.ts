// The admission decision as a plain function: request in, verdict out. No I/O; the edges add
// the live store lookup (on a `missingIn` hint) and the wire encoding.

import { denied, patched, type Verdict } from "../admission/respond.js";
import type { AdmissionRequest, Pod, Workload } from "../admission/types.js";
import { boundWarnings, legacyOwnerLabels, suggestionWarnings } from "./advice.js";
import { podAfterEphemeralUpdate } from "./ephemeral.js";
import * as messages from "./messages.js";
import { toJsonPatch } from "./patch.js";
import { type Plan, planInjection, type Refusal } from "./plan.js";
import type { PlanMode } from "./pod-references.js";
import type { Policy } from "./policy.js";
import type { SecretIndex } from "./secret-index.js";

export interface AdmissionOutcome {
  verdict: Verdict;
  /** For metrics and logs: "mutated", "unchanged", "ignored" or a refusal reason. */
  reason: string;
  /** The job's owner (slash form) when known: for logs. */
  owner: string | undefined;
  /** When keys were missing from this store, a fresh look may change the answer. */
  missingIn: { namespace: string; store: string } | undefined;
  /** Key names the pod asked for: for the audit log (empty when the owner's store is not theirs). */
  keys: readonly string[];
  /** What the user should know even when the pod is fine; bounded. */
  warnings: readonly string[];
}

export interface AdmitOptions {
  /** false: the offline command assumes the owner submitted the pod. */
  checkSubmitter: boolean;
}

/** What the plan looks at for this request; undefined when the webhook leaves it alone. */
function modeOf(request: AdmissionRequest): PlanMode | undefined {
  if (request.resource.group !== "" || request.resource.resource !== "pods") return undefined;
  if (request.operation === "CREATE" && request.subResource === "") return "create";
  if (request.operation === "UPDATE" && request.subResource === "ephemeralcontainers") return "ephemeral";
  return undefined;
}

function outcome(verdict: Verdict, reason: string, fields: Partial<AdmissionOutcome> = {}): AdmissionOutcome {
  const { owner, missingIn, keys = [], warnings = [] } = fields;
  return { verdict, reason, owner, missingIn, keys, warnings };
}

export function admit(
  request: AdmissionRequest,
  policy: Policy,
  index: SecretIndex,
  options: AdmitOptions = { checkSubmitter: true },
): AdmissionOutcome {
  if (request.workload) return admitTemplate(request, request.workload, policy, index, options);
  const mode = modeOf(request);
  if (mode === undefined) return outcome(patched([]), "ignored");
  const sent = request.object;
  if (!sent) return outcome(denied(400, messages.noPodObject()), "bad-request");
  if (mode === "ephemeral" && !request.oldObject) {
    return outcome(denied(400, messages.noStoredPod()), "bad-request");
  }
  const pod =
    mode === "ephemeral" && request.oldObject ? podAfterEphemeralUpdate(request.oldObject, sent) : sent;
  const namespace = request.namespace || pod.metadata.namespace || "";
  const submitter = options.checkSubmitter ? request.userInfo : undefined;
  const result = planInjection({ pod, namespace, mode, submitter }, policy, index);
  const owner = result.owner?.display;
  const told = { owner, keys: result.keys, warnings: adviceOf(pod, result, namespace, index) };
  if (result.kind === "refusal") {
    return outcome(denied(result.code, result.message), result.reason, {
      ...told,
      missingIn: result.missingIn,
    });
  }
  const operations = toJsonPatch(result);
  return outcome(patched(operations), operations.length > 0 ? "mutated" : "unchanged", told);
}

/**
 * A workload's pod template, checked as a pod created by the requesting user, at the workload's
 * creation and at every update that changes the template. Never patched: the pods the
 * controller makes from it are resolved at their own creation.
 */
function admitTemplate(
  request: AdmissionRequest,
  workload: Workload,
  policy: Policy,
  index: SecretIndex,
  options: AdmitOptions,
): AdmissionOutcome {
  const { operation, subResource } = request;
  if (subResource !== "" || (operation !== "CREATE" && operation !== "UPDATE")) {
    return outcome(patched([]), "ignored");
  }
  // Scaling, labels of the object itself, the garbage collector's owner references: the template
  // as stored was already checked (or predates the webhook, see the README).
  if (operation === "UPDATE" && sameTemplate(workload.template, workload.oldTemplate)) {
    return outcome(patched([]), "template-unchanged");
  }
  const submitter = options.checkSubmitter ? request.userInfo : undefined;
  const pod = workload.template;
  const namespace = request.namespace || pod.metadata.namespace || "";
  const input = { pod, namespace, mode: "create", submitter, workload: workload.kind } as const;
  const result = planInjection(input, policy, index);
  const owner = result.owner?.display;
  const told = { owner, keys: result.keys, warnings: adviceOf(pod, result, namespace, index) };
  if (result.kind === "refusal") {
    return outcome(denied(result.code, result.message), result.reason, {
      ...told,
      missingIn: result.missingIn,
    });
  }
  return outcome(patched([]), "template-checked", told);
}

/** Both templates serialized the same: the API server writes them from the same types, in one order. */
function sameTemplate(sent: Workload["template"], stored: Workload["template"] | undefined): boolean {
  return stored !== undefined && JSON.stringify(sent) === JSON.stringify(stored);
}

/**
 * Warnings for the submitter. Close names come from the owner's store only on a refusal for
 * missing keys, which the plan gives only to someone allowed to act for that owner.
 */
function adviceOf(pod: Pod, result: Plan | Refusal, namespace: string, index: SecretIndex): string[] {
  const warnings: string[] = [];
  const legacy = legacyOwnerLabels(pod.metadata.labels ?? {});
  if (legacy.length > 0) warnings.push(messages.legacyOwnerLabel(legacy));
  if (result.kind === "plan") {
    let files = 0;
    for (const change of result.mounts) files += change.mounts.length;
    if (files > 0) warnings.push(messages.subPathMounts(files));
  } else if (result.missing.length > 0 && result.owner) {
    const present = index.keysOf(namespace, result.owner.store);
    if (present) warnings.push(...suggestionWarnings(result.missing, present));
  }
  return boundWarnings(warnings);
}
