// The admission decision as a plain function: request in, verdict out. No I/O; the edges add
// the live store lookup (on a `missingIn` hint) and the wire encoding.

import { denied, patched, type Verdict } from "../admission/respond.js";
import type { AdmissionRequest } from "../admission/types.js";
import { podAfterEphemeralUpdate } from "./ephemeral.js";
import * as messages from "./messages.js";
import { toJsonPatch } from "./patch.js";
import { planInjection } from "./plan.js";
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
  return { verdict, reason, owner: fields.owner, missingIn: fields.missingIn };
}

export function admit(
  request: AdmissionRequest,
  policy: Policy,
  index: SecretIndex,
  options: AdmitOptions = { checkSubmitter: true },
): AdmissionOutcome {
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
  if (result.kind === "refusal") {
    return outcome(denied(result.code, result.message), result.reason, {
      owner,
      missingIn: result.missingIn,
    });
  }
  const operations = toJsonPatch(result);
  return outcome(patched(operations), operations.length > 0 ? "mutated" : "unchanged", { owner });
}
