// Narrows an untrusted AdmissionReview body to typed data, once, at the door.
// Only fields this webhook reads are checked; a wrong shape there is a DecodeError naming the path.

import {
  checkPod,
  fail,
  isObject,
  type Json,
  optionalArray,
  optionalString,
  ShapeError,
} from "./decode-pod.js";
import {
  ADMISSION_API_VERSION,
  type AdmissionRequest,
  type Operation,
  type UserInfo,
  WORKLOAD_TEMPLATES,
  type Workload,
} from "./types.js";

export { decodePod } from "./decode-pod.js";

export interface DecodeError {
  kind: "decode-error";
  /** The request uid when it could be read, so the answer can still be a review. */
  uid: string | undefined;
  apiVersion: string;
  message: string;
}

export interface DecodedReview {
  kind: "review";
  apiVersion: string;
  request: AdmissionRequest;
}

const OPERATIONS: readonly string[] = ["CREATE", "UPDATE", "DELETE", "CONNECT"];

function checkUserInfo(value: unknown): UserInfo {
  if (!isObject(value)) fail("request.userInfo", "an object");
  const username = optionalString(value.username, "request.userInfo.username") ?? "";
  const groups = optionalArray(value.groups, "request.userInfo.groups");
  for (let i = 0; i < groups.length; i++) {
    if (typeof groups[i] !== "string") fail(`request.userInfo.groups[${i}]`, "a string");
  }
  const uid = optionalString(value.uid, "request.userInfo.uid");
  const info: UserInfo = { username, groups: groups as string[] };
  if (uid !== undefined) info.uid = uid;
  return info;
}

// Field lists made once, not per review (decode runs for every request).
const KIND_FIELDS: readonly string[] = ["group", "version", "kind"];
const RESOURCE_FIELDS: readonly string[] = ["group", "version", "resource"];

function checkGroupVersion(value: unknown, path: string, last: "kind" | "resource"): Json {
  if (!isObject(value)) fail(path, "an object");
  for (const field of last === "kind" ? KIND_FIELDS : RESOURCE_FIELDS) {
    if (typeof (value[field] ?? "") !== "string") fail(`${path}.${field}`, "a string");
  }
  return value;
}

/** The pod template at `keys` inside a workload object, checked as a Pod. Throws ShapeError. */
function checkTemplate(object: unknown, keys: readonly string[], path: string) {
  if (!isObject(object)) fail(path, "an object");
  let current: unknown = object;
  let at = path;
  for (const key of keys) {
    if (!isObject(current)) fail(at, "an object");
    current = current[key];
    at = `${at}.${key}`;
  }
  return checkPod(current, at);
}

/**
 * A workload kind's name and pod template (and the stored one, for an UPDATE); undefined for any
 * other kind, or a workload request without an object (a DELETE). Throws ShapeError.
 */
function checkWorkload(request: Json, kind: Json, operation: string): Workload | undefined {
  const keys = WORKLOAD_TEMPLATES.get(`${String(kind.group ?? "")}/${String(kind.kind ?? "")}`);
  if (keys === undefined || request.object === undefined || request.object === null) return undefined;
  const template = checkTemplate(request.object, keys, "request.object");
  const metadata = (request.object as Json).metadata;
  const name = isObject(metadata) ? optionalString(metadata.name, "request.object.metadata.name") : undefined;
  const old = request.oldObject;
  const oldTemplate =
    operation === "UPDATE" && old !== undefined && old !== null
      ? checkTemplate(old, keys, "request.oldObject")
      : undefined;
  return {
    kind: String(kind.kind),
    name: name ?? optionalString(request.name, "request.name") ?? "",
    template,
    ...(oldTemplate === undefined ? {} : { oldTemplate }),
  };
}

/**
 * Like checkWorkload, for callers outside a review (the offline command): a workload object with
 * `apiVersion` and `kind`; undefined when it is no workload kind.
 */
export function decodeWorkload(value: unknown): Workload | { error: string } | undefined {
  if (!isObject(value) || typeof value.apiVersion !== "string" || typeof value.kind !== "string") {
    return undefined;
  }
  const slash = value.apiVersion.indexOf("/");
  const kind = { group: slash < 0 ? "" : value.apiVersion.slice(0, slash), kind: value.kind };
  try {
    return checkWorkload({ object: value }, kind, "CREATE");
  } catch (error) {
    if (error instanceof ShapeError) return { error: error.message.replace("request.object", "workload") };
    throw error;
  }
}

/** The request's fields, checked and typed. Throws ShapeError. */
function checkRequest(request: Json, uid: string): AdmissionRequest {
  const kind = checkGroupVersion(request.kind, "request.kind", "kind");
  const resource = checkGroupVersion(request.resource, "request.resource", "resource");
  const operation = request.operation;
  if (typeof operation !== "string" || !OPERATIONS.includes(operation)) {
    fail("request.operation", `one of ${OPERATIONS.join(", ")}`);
  }
  const isPod = (kind.group ?? "") === "" && kind.kind === "Pod";
  const object =
    isPod && request.object !== undefined && request.object !== null
      ? checkPod(request.object, "request.object")
      : undefined;
  // Only an update has a stored object; the ephemeral-containers update reads it (see core/ephemeral.ts).
  const oldObject =
    isPod && operation === "UPDATE" && request.oldObject !== undefined && request.oldObject !== null
      ? checkPod(request.oldObject, "request.oldObject")
      : undefined;
  // A pod is no workload kind: its kind needs no lookup.
  const workload = isPod ? undefined : checkWorkload(request, kind, operation);
  const decoded: AdmissionRequest = {
    uid,
    kind: {
      group: String(kind.group ?? ""),
      version: String(kind.version ?? ""),
      kind: String(kind.kind ?? ""),
    },
    resource: {
      group: String(resource.group ?? ""),
      version: String(resource.version ?? ""),
      resource: String(resource.resource ?? ""),
    },
    subResource: optionalString(request.subResource, "request.subResource") ?? "",
    name: optionalString(request.name, "request.name") ?? "",
    namespace: optionalString(request.namespace, "request.namespace") ?? "",
    operation: operation as Operation,
    userInfo: checkUserInfo(request.userInfo ?? {}),
    object,
  } as AdmissionRequest;
  // Set in the same order as the fields above, without a spread of a temporary object each.
  if (oldObject !== undefined) decoded.oldObject = oldObject;
  if (workload !== undefined) decoded.workload = workload;
  decoded.dryRun = request.dryRun === true;
  return decoded;
}

function decodeError(uid: string | undefined, apiVersion: string, message: string): DecodeError {
  return { kind: "decode-error", uid, apiVersion, message };
}

/** Decodes an AdmissionReview body. Pods are checked only when the request is about pods. */
export function decodeReview(body: unknown): DecodedReview | DecodeError {
  const apiVersion =
    isObject(body) && typeof body.apiVersion === "string" ? body.apiVersion : ADMISSION_API_VERSION;
  const request = isObject(body) && isObject(body.request) ? body.request : undefined;
  const uid = request && typeof request.uid === "string" && request.uid !== "" ? request.uid : undefined;
  if (!isObject(body))
    return decodeError(uid, apiVersion, "the body must be a JSON object (an AdmissionReview)");
  if (body.kind !== "AdmissionReview")
    return decodeError(uid, apiVersion, `kind must be "AdmissionReview", got ${JSON.stringify(body.kind)}`);
  if (apiVersion !== ADMISSION_API_VERSION) {
    return decodeError(
      uid,
      apiVersion,
      `apiVersion must be "${ADMISSION_API_VERSION}" (set admissionReviewVersions: ["v1"])`,
    );
  }
  if (!request) return decodeError(uid, apiVersion, "request is missing");
  if (!uid) return decodeError(uid, apiVersion, "request.uid is missing");
  try {
    return { kind: "review", apiVersion, request: checkRequest(request, uid) };
  } catch (caught) {
    if (caught instanceof ShapeError) return decodeError(uid, apiVersion, caught.message);
    throw caught;
  }
}
