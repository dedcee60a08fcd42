// One reason to refuse a pod. Each step of the plan returns its problems; the plan gathers them
// so the user sees every problem at once.

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

export function problem(code: 403 | 422, reason: RefusalReason, message: string): Problem {
  return { code, reason, message };
}
