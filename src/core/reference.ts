// The reference grammar: `secret:KEY`, `secret:/OWNER/KEY`, `secret://CLUSTER/OWNER/KEY`
// (project scope: `secret:/PROJECT/KEY`, `secret://CLUSTER/ORG/PROJECT/KEY`).

import { isNamePart } from "./charset.js";
import { clip, LIMITS } from "./limits.js";
import type { Scope } from "./policy.js";

export const REFERENCE_PREFIX = "secret:";

export interface SecretRef {
  kind: "ref";
  /** The reference as written, for messages. */
  text: string;
  /** Owner path segments as written; empty when the job's own owner is implied. */
  ownerPath: readonly string[];
  cluster: string | undefined;
  key: string;
}

export interface GrammarError {
  kind: "grammar-error";
  text: string;
  problem: string;
}

// Platform rule: 1 to 253 characters of [a-zA-Z0-9_.-], not "." and not starting with "..".
export function isValidSecretName(name: string): boolean {
  return isNamePart(name) && name !== "." && !name.startsWith("..");
}

export const SECRET_NAME_RULE =
  "1 to 253 characters of letters, digits, '_', '.' and '-', not '.' and not starting with '..'";

export function acceptedForms(scope: Scope): string {
  return scope === "user"
    ? "secret:KEY, secret:/OWNER/KEY or secret://CLUSTER/OWNER/KEY"
    : "secret:KEY, secret:/PROJECT/KEY or secret://CLUSTER/ORG/PROJECT/KEY";
}

export function isReference(value: string): boolean {
  return value.startsWith(REFERENCE_PREFIX);
}

function segmentProblem(segment: string, what: string): string | undefined {
  if (!isNamePart(segment) || segment === "." || segment === "..") {
    return segment === "" ? `the ${what} is empty` : `the ${what} '${clip(segment)}' is not a valid name`;
  }
  return undefined;
}

/** Parses one reference; the text must start with "secret:". */
export function parseReference(text: string, scope: Scope): SecretRef | GrammarError {
  const error = (problem: string): GrammarError => ({ kind: "grammar-error", text, problem });
  if (!isReference(text)) return error(`it does not start with '${REFERENCE_PREFIX}'`);
  if (text.length > LIMITS.referenceChars) {
    return error(
      `it is ${text.length} characters long, more than the limit of ${LIMITS.referenceChars} for a reference`,
    );
  }
  const body = text.slice(REFERENCE_PREFIX.length);
  if (body === "") return error("the secret name is empty");

  let cluster: string | undefined;
  let segments: string[];
  const ownerSegments = scope === "user" ? undefined : 1;
  if (body.startsWith("//")) {
    segments = body.slice(2).split("/");
    cluster = segments.shift() ?? "";
    if (cluster === "") return error("the cluster name is empty");
    const expected = scope === "user" ? "secret://CLUSTER/OWNER/KEY" : "secret://CLUSTER/ORG/PROJECT/KEY";
    const min = scope === "user" ? 2 : 3;
    if (segments.length < min || (scope === "project" && segments.length !== 3))
      return error(`expected ${expected}`);
  } else if (body.startsWith("/")) {
    segments = body.slice(1).split("/");
    const expected = scope === "user" ? "secret:/OWNER/KEY" : "secret:/PROJECT/KEY";
    if (segments.length < 2 || (ownerSegments !== undefined && segments.length !== ownerSegments + 1)) {
      return error(`expected ${expected}`);
    }
  } else {
    if (body.includes("/")) return error("a secret name cannot contain '/'");
    segments = [body];
  }
  const key = segments.pop() ?? "";
  const ownerWord = scope === "user" ? "owner" : "project path";
  for (const segment of segments) {
    const problem = segmentProblem(segment, ownerWord);
    if (problem) return error(problem);
  }
  if (cluster !== undefined) {
    const problem = segmentProblem(cluster, "cluster name");
    if (problem) return error(problem);
  }
  if (!isValidSecretName(key)) {
    return error(
      key === ""
        ? "the secret name is empty"
        : `the secret name '${clip(key)}' breaks the rule: ${SECRET_NAME_RULE}`,
    );
  }
  return { kind: "ref", text, ownerPath: segments, cluster, key };
}
