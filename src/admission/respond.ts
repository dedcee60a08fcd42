// Response constructors and the one place that completes a review (uid, apiVersion, base64 patch).

import type { AdmissionResponse, AdmissionReviewResponse } from "./types.js";

/** A JSON Patch operation as this webhook emits them (RFC 6902). */
export type PatchOperation =
  | { op: "add"; path: string; value: unknown }
  | { op: "replace"; path: string; value: unknown };

/** A response before it is tied to a request: what the handler decided. */
export type Verdict =
  | { allowed: true; patch: readonly PatchOperation[]; warnings?: string[] }
  | { allowed: false; code: number; message: string; reason?: string };

export function patched(patch: readonly PatchOperation[], warnings?: string[]): Verdict {
  return warnings && warnings.length > 0 ? { allowed: true, patch, warnings } : { allowed: true, patch };
}

export function denied(code: number, message: string, reason?: string): Verdict {
  return reason === undefined ? { allowed: false, code, message } : { allowed: false, code, message, reason };
}

const STATUS_REASONS: Record<number, string> = {
  400: "BadRequest",
  403: "Forbidden",
  413: "RequestEntityTooLarge",
  422: "Invalid",
  500: "InternalError",
};

/** Patches whose UTF-8 fits in this many bytes are encoded through one reused buffer. */
const SCRATCH_MAX_BYTES = 1024 * 1024;
let scratch = Buffer.alloc(0);

function toBase64(text: string): string {
  // UTF-8 first, so non-ASCII names survive (Buffer is a global of the runtime, not an import).
  // A UTF-16 unit is at most 3 bytes of UTF-8. Writing into a buffer kept between requests
  // halves the cost of a large patch (bench/: a fresh Buffer per answer for 600 operations cost
  // as much as parsing the references); a patch over the cap gets a buffer of its own.
  const most = text.length * 3;
  if (most > SCRATCH_MAX_BYTES) return Buffer.from(text, "utf8").toString("base64");
  if (scratch.length < most) scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX_BYTES, most * 2));
  const length = scratch.write(text, 0, "utf8");
  return scratch.toString("base64", 0, length);
}

/**
 * The last patch completeReview encoded (base64 only, which JSON text never escapes) and the
 * response it went into: the server writes a review right after completing it. Not a WeakMap of
 * every response: a WeakMap entry per admission made each young-generation collection slower and
 * the heap larger (bench/profile.ts, typical pod: see the README).
 */
let encoded: { response: AdmissionResponse; patch: string } | undefined;

/** Below this many characters the patch is serialized with the rest. */
const SPLICED_PATCH_CHARS = 1024;

/**
 * The review as JSON text, the same as JSON.stringify gives. JSON.stringify scans every character
 * of a string for escapes: for a large pod's patch (150 KB of base64) that took longer than
 * planning the pod (bench/). The patch completeReview made is base64, which needs no escape, so
 * it is set in between the text before and after it instead.
 */
export function reviewJson(review: AdmissionReviewResponse): string {
  const { response } = review;
  const patch = response.patch;
  if (
    patch === undefined ||
    patch.length < SPLICED_PATCH_CHARS ||
    encoded?.response !== response ||
    encoded.patch !== patch
  ) {
    return JSON.stringify(review);
  }
  const text = JSON.stringify({ ...review, response: { ...response, patch: "" } });
  // Unique: inside a JSON string every quote is escaped, so this is the patch's own key.
  const marker = '"patchType":"JSONPatch","patch":"';
  const at = text.indexOf(marker) + marker.length;
  return text.slice(0, at) + patch + text.slice(at);
}

/** What a response tells besides its decision: warnings for the user, annotations for the audit log. */
export interface ResponseNotes {
  warnings?: readonly string[];
  auditAnnotations?: Readonly<Record<string, string>>;
}

/** Ties a verdict to its request: echoes apiVersion and uid, encodes the patch. */
export function completeReview(
  apiVersion: string,
  uid: string,
  verdict: Verdict,
  notes: ResponseNotes = {},
): AdmissionReviewResponse {
  let response: AdmissionResponse;
  if (verdict.allowed) {
    response = { uid, allowed: true };
    if (verdict.patch.length > 0) {
      response.patchType = "JSONPatch";
      response.patch = toBase64(JSON.stringify(verdict.patch));
      encoded = { response, patch: response.patch };
    }
    if (verdict.warnings && verdict.warnings.length > 0) response.warnings = verdict.warnings;
  } else {
    response = {
      uid,
      allowed: false,
      status: {
        code: verdict.code,
        message: verdict.message,
        reason: verdict.reason ?? STATUS_REASONS[verdict.code] ?? "Unknown",
      },
    };
  }
  const extra = notes.warnings ?? [];
  if (extra.length > 0) response.warnings = [...(response.warnings ?? []), ...extra];
  if (notes.auditAnnotations) response.auditAnnotations = { ...notes.auditAnnotations };
  return { apiVersion, kind: "AdmissionReview", response };
}
