// The reference grammar: `secret:KEY`, `secret:/OWNER/KEY`, `secret://CLUSTER/OWNER/KEY`
// (project scope: `secret:/PROJECT/KEY`, `secret://CLUSTER/ORG/PROJECT/KEY`).

import { isNamePart } from "./charset.js";
import { REFERENCE_PREFIX } from "./contract.js";
import { LIMITS } from "./limits.js";
import * as messages from "./messages.js";
import type { Scope } from "./policy.js";

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

export function isReference(value: string): boolean {
  return value.startsWith(REFERENCE_PREFIX);
}

function segmentProblem(segment: string, what: string): string | undefined {
  if (!isNamePart(segment) || segment === "." || segment === "..") return messages.badSegment(what, segment);
  return undefined;
}

/** The reference's body (after the prefix) split into cluster, owner path and key, or a problem. */
function splitBody(
  body: string,
  scope: Scope,
): { cluster: string | undefined; ownerPath: string[]; key: string } | string {
  let cluster: string | undefined;
  let segments: string[];
  if (body.startsWith("//")) {
    segments = body.slice(2).split("/");
    cluster = segments.shift() ?? "";
    if (cluster === "") return messages.emptyClusterName();
    const min = scope === "user" ? 2 : 3;
    if (segments.length < min || (scope === "project" && segments.length !== 3))
      return messages.expectedFullForm(scope);
  } else if (body.startsWith("/")) {
    segments = body.slice(1).split("/");
    if (segments.length < 2 || (scope === "project" && segments.length !== 2)) {
      return messages.expectedOwnerForm(scope);
    }
  } else {
    if (body.includes("/")) return messages.slashInSecretName();
    segments = [body];
  }
  const key = segments.pop() ?? "";
  return { cluster, ownerPath: segments, key };
}

/** Parses one reference; the text must start with "secret:". */
export function parseReference(text: string, scope: Scope): SecretRef | GrammarError {
  const error = (problem: string): GrammarError => ({ kind: "grammar-error", text, problem });
  if (!isReference(text)) return error(messages.notAReference());
  if (text.length > LIMITS.referenceChars) return error(messages.referenceTooLong(text.length));
  const body = text.slice(REFERENCE_PREFIX.length);
  if (body === "") return error(messages.emptySecretName());
  const parts = splitBody(body, scope);
  if (typeof parts === "string") return error(parts);
  const { cluster, ownerPath, key } = parts;
  const ownerWord = scope === "user" ? "owner" : "project path";
  for (const segment of ownerPath) {
    const problem = segmentProblem(segment, ownerWord);
    if (problem) return error(problem);
  }
  if (cluster !== undefined) {
    const problem = segmentProblem(cluster, "cluster name");
    if (problem) return error(problem);
  }
  if (!isValidSecretName(key)) {
    return error(key === "" ? messages.emptySecretName() : messages.secretNameBreaksRule(key));
  }
  return { kind: "ref", text, ownerPath, cluster, key };
}
