// The file-reference annotation: a JSON array whose entries are either the job CLI's own
// "secret:KEY:/mount/path" or {"uri", "mountPath", "containers"?}.

import { trimTrailing } from "./charset.js";
import { clip, clipWhere, LIMITS, listSome, quoted } from "./limits.js";
import type { Scope } from "./policy.js";
import { acceptedForms, type GrammarError, parseReference, type SecretRef } from "./reference.js";

export const SECRET_VOLUMES_ANNOTATION = "platform.apolo.us/secret-volumes";

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

const ENTRY_FORMS = `"secret:KEY:/abs/path" or {"uri": "secret:KEY", "mountPath": "/abs/path", "containers": ["name"]}`;
const OBJECT_FIELDS = new Set(["uri", "mountPath", "containers"]);

/** Why a mount path is unusable, or undefined when it is fine. */
export function mountPathProblem(path: string): string | undefined {
  if (path.length > LIMITS.mountPathChars)
    return `it is ${path.length} characters long, more than the limit of ${LIMITS.mountPathChars} for a mount path`;
  if (!path.startsWith("/")) return "it must be an absolute path (start with '/')";
  if (path.split("/").some((segment) => segment === "..")) return "it must not contain '..'";
  if (trimTrailing(path, "/") === "") return "it must name a file, not '/'";
  if (path.includes("\0")) return "it must not contain NUL";
  return undefined;
}

function grammarMessage(where: string, error: GrammarError, scope: Scope): string {
  return `Invalid secret reference '${clip(error.text)}' in ${clipWhere(where)}: ${error.problem}; use ${acceptedForms(scope)}`;
}

export interface FileRequestsReading {
  requests: FileRequest[];
  problems: FileRequestProblem[];
}

/** Parses the annotation's value. An absent annotation yields no requests and no problems. */
export function readFileRequests(annotation: string | undefined, scope: Scope): FileRequestsReading {
  const requests: FileRequest[] = [];
  const problems: FileRequestProblem[] = [];
  if (annotation === undefined) return { requests, problems };
  const where = `annotation ${SECRET_VOLUMES_ANNOTATION}`;
  if (annotation.length > LIMITS.annotationChars) {
    problems.push({
      kind: "entry",
      message: `Invalid ${where}: it is ${annotation.length} characters long, more than the limit of ${LIMITS.annotationChars} (the API server's own limit for all annotations together)`,
    });
    return { requests, problems };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(annotation);
  } catch {
    problems.push({ kind: "entry", message: `Invalid ${where}: it must be a JSON array of ${ENTRY_FORMS}` });
    return { requests, problems };
  }
  if (!Array.isArray(parsed)) {
    problems.push({ kind: "entry", message: `Invalid ${where}: it must be a JSON array of ${ENTRY_FORMS}` });
    return { requests, problems };
  }
  if (parsed.length > LIMITS.annotationEntries) {
    problems.push({
      kind: "entry",
      message: `Invalid ${where}: it has ${parsed.length} entries, more than the limit of ${LIMITS.annotationEntries}`,
    });
    return { requests, problems };
  }
  parsed.forEach((entry: unknown, index) => {
    const at = `${where}, entry ${index}`;
    if (typeof entry === "string") {
      const parts = entry.split(":");
      if (parts.length !== 3 || parts[0] !== "secret") {
        problems.push({
          kind: "entry",
          message: `Invalid secret file specification '${clip(entry)}' in ${at}: use secret:KEY:/abs/path (no :ro or :rw; secret files are always read-only)`,
        });
        return;
      }
      const [, refBody = "", mountPath = ""] = parts;
      pushRequest(`secret:${refBody}`, mountPath, undefined, entry, at);
      return;
    }
    if (typeof entry === "object" && entry !== null && !Array.isArray(entry)) {
      const fields = entry as Record<string, unknown>;
      const source = JSON.stringify(entry);
      const unknown = Object.keys(fields).filter((field) => !OBJECT_FIELDS.has(field));
      if (unknown.length > 0) {
        problems.push({
          kind: "entry",
          message: `Invalid secret file entry ${clip(source)} in ${at}: unknown field(s) ${listSome(unknown, quoted)}; the fields are uri, mountPath and containers`,
        });
        return;
      }
      const { uri, mountPath, containers } = fields;
      if (typeof uri !== "string" || typeof mountPath !== "string") {
        problems.push({
          kind: "entry",
          message: `Invalid secret file entry ${clip(source)} in ${at}: uri and mountPath must be strings, as in ${ENTRY_FORMS}`,
        });
        return;
      }
      if (
        containers !== undefined &&
        (!Array.isArray(containers) ||
          containers.length === 0 ||
          containers.some((c) => typeof c !== "string" || c === ""))
      ) {
        problems.push({
          kind: "entry",
          message: `Invalid secret file entry ${clip(source)} in ${at}: containers must be a non-empty list of container names`,
        });
        return;
      }
      pushRequest(uri, mountPath, containers as string[] | undefined, source, at);
      return;
    }
    problems.push({
      kind: "entry",
      message: `Invalid secret file entry ${clip(JSON.stringify(entry))} in ${at}: use ${ENTRY_FORMS}`,
    });
  });
  return { requests, problems };

  function pushRequest(
    uri: string,
    mountPath: string,
    containers: string[] | undefined,
    source: string,
    at: string,
  ) {
    const ref = parseReference(uri, scope);
    if (ref.kind === "grammar-error") {
      problems.push({ kind: "grammar", message: grammarMessage(at, ref, scope) });
      return;
    }
    const pathProblem = mountPathProblem(mountPath);
    if (pathProblem) {
      problems.push({
        kind: "entry",
        message: `Invalid mount path '${clip(mountPath)}' in ${at}: ${pathProblem}`,
      });
      return;
    }
    requests.push({ ref, mountPath, containers, source });
  }
}

export { grammarMessage };
