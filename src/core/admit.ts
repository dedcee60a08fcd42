// The admission decision as a plain function: request in, verdict out. No I/O; the edges add
// the live store lookup (on a `missingIn` hint) and the wire encoding.

import { denied, patched, type Verdict } from "../admission/respond.js";
import type { AdmissionRequest } from "../admission/types.js";
import * as messages from "./messages.js";
import { toJsonPatch } from "./patch.js";
import { planInjection } from "./plan.js";
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

function isPodRequest(request: AdmissionRequest): boolean {
  return request.resource.group === "" && request.resource.resource === "pods";
}

export function admit(
  request: AdmissionRequest,
  policy: Policy,
  index: SecretIndex,
  options: AdmitOptions = { checkSubmitter: true },
): AdmissionOutcome {
  const ignored = (reason: string): AdmissionOutcome => ({
    verdict: patched([]),
    reason,
    owner: undefined,
    missingIn: undefined,
  });
  if (!isPodRequest(request)) return ignored("ignored");
  let mode: "create" | "ephemeral";
  if (request.operation === "CREATE" && request.subResource === "") mode = "create";
  else if (request.operation === "UPDATE" && request.subResource === "ephemeralcontainers")
    mode = "ephemeral";
  else return ignored("ignored");

  const pod = request.object;
  if (!pod) {
    return {
      verdict: denied(400, messages.noPodObject()),
      reason: "bad-request",
      owner: undefined,
      missingIn: undefined,
    };
  }
  const namespace = request.namespace || pod.metadata.namespace || "";
  const result = planInjection(
    { pod, namespace, mode, submitter: options.checkSubmitter ? request.userInfo : undefined },
    policy,
    index,
  );
  if (result.kind === "refusal") {
    return {
      verdict: denied(result.code, result.message),
      reason: result.reason,
      owner: result.owner?.display,
      missingIn: result.missingIn,
    };
  }
  const operations = toJsonPatch(result);
  return {
    verdict: patched(operations),
    reason: operations.length > 0 ? "mutated" : "unchanged",
    owner: result.owner?.display,
    missingIn: undefined,
  };
}
