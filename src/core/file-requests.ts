// The file-reference annotation: a JSON array whose entries are either the job CLI's own
// "secret:KEY:/mount/path" or {"uri", "mountPath", "containers"?}.

import { trimTrailing } from "./charset.js";
import { SECRET_VOLUMES_ANNOTATION } from "./contract.js";
import { LIMITS } from "./limits.js";
import * as messages from "./messages.js";
import type { Scope } from "./policy.js";
import { parseReference, type SecretRef } from "./reference.js";

export { SECRET_VOLUMES_ANNOTATION };

export interface FileRequest {
  ref: SecretRef;
  mountPath: string;
  /** Named init or regular containers; undefined means every regular container. */
  containers: readonly string[] | undefined;
  /** The entry as written, for messages. */
  source: string;
}

export interface FileRequestProblem {
  /** "grammar" problems quote a reference; "entry" problems quote the entry. */
  kind: "grammar" | "entry";
  message: string;
}

export interface FileRequestsReading {
  requests: FileRequest[];
  problems: FileRequestProblem[];
}

const OBJECT_FIELDS = new Set(["uri", "mountPath", "containers"]);

/** Why a mount path is unusable, or undefined when it is fine. */
export function mountPathProblem(path: string): string | undefined {
  const problems = messages.MOUNT_PATH_PROBLEMS;
  if (path.length > LIMITS.mountPathChars) return problems.tooLong(path.length);
  if (!path.startsWith("/")) return problems.relative();
  if (path.split("/").some((segment) => segment === "..")) return problems.parent();
  if (trimTrailing(path, "/") === "") return problems.root();
  if (path.includes("\0")) return problems.nul();
  return undefined;
}

/** Parses the annotation's value. An absent annotation yields no requests and no problems. */
export function readFileRequests(annotation: string | undefined, scope: Scope): FileRequestsReading {
  const reading: FileRequestsReading = { requests: [], problems: [] };
  if (annotation === undefined) return reading;
  const entries = readEntries(annotation);
  if (!Array.isArray(entries)) {
    reading.problems.push(entries);
    return reading;
  }
  entries.forEach((entry: unknown, index) => {
    const read = readEntry(entry, messages.places.annotationEntry(index), scope);
    if ("ref" in read) reading.requests.push(read);
    else reading.problems.push(read);
  });
  return reading;
}

/** The annotation's entries, within the bounds, or the one problem that stops reading them. */
function readEntries(annotation: string): unknown[] | FileRequestProblem {
  if (annotation.length > LIMITS.annotationChars) {
    return entryProblem(messages.annotationTooLong(annotation.length));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(annotation);
  } catch {
    return entryProblem(messages.annotationNotAList());
  }
  if (!Array.isArray(parsed)) return entryProblem(messages.annotationNotAList());
  if (parsed.length > LIMITS.annotationEntries) return entryProblem(messages.tooManyEntries(parsed.length));
  return parsed;
}

function entryProblem(message: string): FileRequestProblem {
  return { kind: "entry", message };
}

/** One entry, `at` its place in the annotation. */
function readEntry(entry: unknown, at: string, scope: Scope): FileRequest | FileRequestProblem {
  if (typeof entry === "string") return readShortEntry(entry, at, scope);
  if (typeof entry === "object" && entry !== null && !Array.isArray(entry)) {
    return readObjectEntry(entry as Record<string, unknown>, at, scope);
  }
  return entryProblem(messages.invalidEntry(JSON.stringify(entry), at));
}

/** The job CLI's "secret:KEY:/mount/path". */
function readShortEntry(entry: string, at: string, scope: Scope): FileRequest | FileRequestProblem {
  const parts = entry.split(":");
  if (parts.length !== 3 || parts[0] !== "secret") {
    return entryProblem(messages.invalidFileSpecification(entry, at));
  }
  const [, refBody = "", mountPath = ""] = parts;
  return toRequest(`secret:${refBody}`, mountPath, undefined, { source: entry, at, scope });
}

/** {"uri", "mountPath", "containers"?}. */
function readObjectEntry(
  fields: Record<string, unknown>,
  at: string,
  scope: Scope,
): FileRequest | FileRequestProblem {
  const source = JSON.stringify(fields);
  const unknown = Object.keys(fields).filter((field) => !OBJECT_FIELDS.has(field));
  if (unknown.length > 0) return entryProblem(messages.unknownEntryFields(source, at, unknown));
  const { uri, mountPath, containers } = fields;
  if (typeof uri !== "string" || typeof mountPath !== "string") {
    return entryProblem(messages.entryFieldsNotStrings(source, at));
  }
  if (containers !== undefined && !isContainerList(containers)) {
    return entryProblem(messages.invalidEntryContainers(source, at));
  }
  return toRequest(uri, mountPath, containers, { source, at, scope });
}

function isContainerList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((c) => typeof c === "string" && c !== "");
}

/** An entry's reference and mount path, checked. */
function toRequest(
  uri: string,
  mountPath: string,
  containers: string[] | undefined,
  entry: { source: string; at: string; scope: Scope },
): FileRequest | FileRequestProblem {
  const ref = parseReference(uri, entry.scope);
  if (ref.kind === "grammar-error") {
    return { kind: "grammar", message: messages.invalidReference(entry.at, ref, entry.scope) };
  }
  const pathProblem = mountPathProblem(mountPath);
  if (pathProblem) return entryProblem(messages.invalidMountPath(mountPath, entry.at, pathProblem));
  return { ref, mountPath, containers, source: entry.source };
}
