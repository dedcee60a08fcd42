// request → decode → admit → (one live store lookup on a miss) → review. Every outcome, even an
// unexpected error, is a well-formed AdmissionReview that fails closed.

import { decodeReview } from "../admission/decode.js";
import { completeReview, denied } from "../admission/respond.js";
import {
  ADMISSION_API_VERSION,
  type AdmissionRequest,
  type AdmissionReviewResponse,
} from "../admission/types.js";
import { type AdmissionOutcome, admit } from "../core/admit.js";
import { auditAnnotations } from "../core/advice.js";
import { clip } from "../core/limits.js";
import type { Policy } from "../core/policy.js";
import type { SecretIndex } from "../core/secret-index.js";
import { describeError, type Logger } from "../lifecycle/logger.js";
import type { WebhookMetrics } from "./metrics.js";

/** A fresh read of one store Secret into the index, bounded in time by its implementation. */
export type StoreRefresher = (
  namespace: string,
  store: string,
) => Promise<"found" | "absent" | "error" | "timeout">;

export interface ReviewHandlerDeps {
  policy: Policy;
  index: SecretIndex;
  refresh: StoreRefresher | undefined;
  logger: Logger;
  metrics: WebhookMetrics | undefined;
}

export interface HandledReview {
  /** HTTP status: 200 for every review; 400 when the body is not a review at all. */
  status: number;
  body: AdmissionReviewResponse | { error: string };
}

/** Synchronous when the cache answers; a Promise only when a live store lookup is needed. */
export type ReviewHandler = (body: unknown) => HandledReview | Promise<HandledReview>;

const INTERNAL_ERROR =
  "The secrets webhook failed to process this pod; nothing was changed. Retry, and report it to the cluster operator if it persists.";

/** A Kubernetes object name is at most 253 characters. */
const LOGGED_NAME_CHARS = 253;

export function createReviewHandler(deps: ReviewHandlerDeps): ReviewHandler {
  return (body) => {
    const started = process.hrtime.bigint();
    const decoded = decodeReview(body);
    if (decoded.kind === "decode-error") return answerUndecodable(deps, decoded);
    const review = { apiVersion: decoded.apiVersion, request: decoded.request, started };
    const outcome = decide(deps, review.request);
    const refresh = deps.refresh;
    if (!outcome.missingIn || !refresh) return finish(deps, review, outcome, undefined);
    // A secret added a moment ago may not have reached the watch yet: look once, then decide.
    return refresh(outcome.missingIn.namespace, outcome.missingIn.store).then(
      (lookup) => {
        deps.metrics?.liveLookups.inc({ result: lookup });
        return finish(deps, review, lookup === "found" ? decide(deps, review.request) : outcome, lookup);
      },
      () => {
        deps.metrics?.liveLookups.inc({ result: "error" });
        return finish(deps, review, outcome, "error");
      },
    );
  };
}

/** A decoded review on its way to an answer. */
interface Review {
  apiVersion: string;
  request: AdmissionRequest;
  /** process.hrtime.bigint() when the body was handed over. */
  started: bigint;
}

/** A body that is not a review: 400, or a denial when it has a uid to answer to. */
function answerUndecodable(
  deps: ReviewHandlerDeps,
  decoded: Extract<ReturnType<typeof decodeReview>, { kind: "decode-error" }>,
): HandledReview {
  deps.metrics?.countAdmission("error", "bad-request");
  deps.logger.warn("bad admission review", { uid: decoded.uid, error: decoded.message });
  // The message may quote a field name of the body: keep it small.
  const message = `Invalid AdmissionReview: ${clip(decoded.message, 1000)}`;
  if (decoded.uid === undefined) return { status: 400, body: { error: message } };
  const notes = {
    auditAnnotations: auditAnnotations({
      owner: undefined,
      keys: [],
      decision: "error",
      reason: "bad-request",
    }),
  };
  return { status: 200, body: completeReview(decoded.apiVersion, decoded.uid, denied(400, message), notes) };
}

/** The core's verdict; an unexpected error is a 500 denial (fail closed), logged. */
function decide(deps: ReviewHandlerDeps, request: AdmissionRequest): AdmissionOutcome {
  try {
    return admit(request, deps.policy, deps.index);
  } catch (error) {
    deps.logger.error("admission failed", { uid: request.uid, error: describeError(error) });
    return {
      verdict: denied(500, INTERNAL_ERROR),
      reason: "internal-error",
      owner: undefined,
      missingIn: undefined,
      keys: [],
      warnings: [],
    };
  }
}

/** Counts, logs and completes the review. */
function finish(
  deps: ReviewHandlerDeps,
  review: Review,
  outcome: AdmissionOutcome,
  lookup: string | undefined,
): HandledReview {
  const { request } = review;
  const decision = outcome.verdict.allowed
    ? "allowed"
    : outcome.reason === "internal-error"
      ? "error"
      : "denied";
  const seconds = Number(process.hrtime.bigint() - review.started) / 1e9;
  deps.metrics?.countAdmission(decision, outcome.reason, seconds);
  deps.logger.info("admission", {
    // A direct caller chooses uid, namespace and subresource too: bounded like the names.
    uid: clip(request.uid, LOGGED_NAME_CHARS),
    namespace: clip(request.namespace, LOGGED_NAME_CHARS),
    // Names are validated by the API server only after admission: bound them in the log line.
    pod: clip(podName(request), LOGGED_NAME_CHARS) || undefined,
    workload: request.workload?.kind,
    operation: request.operation,
    subResource: clip(request.subResource, LOGGED_NAME_CHARS) || undefined,
    user: clip(request.userInfo.username, LOGGED_NAME_CHARS),
    owner: outcome.owner === undefined ? undefined : clip(outcome.owner, LOGGED_NAME_CHARS),
    decision,
    reason: outcome.reason,
    code: outcome.verdict.allowed ? undefined : outcome.verdict.code,
    liveLookup: lookup,
    dryRun: request.dryRun || undefined,
    durationMs: Math.round(seconds * 1e6) / 1e3,
  });
  const { owner, keys, warnings } = outcome;
  const notes = {
    warnings,
    auditAnnotations: auditAnnotations({ owner, keys, decision, reason: outcome.reason }),
  };
  return {
    status: 200,
    body: completeReview(review.apiVersion || ADMISSION_API_VERSION, request.uid, outcome.verdict, notes),
  };
}

function podName(request: AdmissionRequest): string {
  if (request.workload) return request.workload.name || request.name;
  return request.object?.metadata.name || request.name || request.object?.metadata.generateName || "";
}
