// Narrows an untrusted AdmissionReview body to typed data, once, at the door.
// Only fields this webhook reads are checked; a wrong shape there is a DecodeError naming the path.

import { dropNulls } from "./drop-nulls.js";
import {
  ADMISSION_API_VERSION,
  type AdmissionRequest,
  CONTAINER_FIELDS,
  type Operation,
  type Pod,
  type UserInfo,
  VOLUME_SECRET_NAMES,
} from "./types.js";

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

type Json = Record<string, unknown>;

const OPERATIONS: readonly string[] = ["CREATE", "UPDATE", "DELETE", "CONNECT"];

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

class ShapeError extends Error {}

function fail(path: string, expected: string): never {
  throw new ShapeError(`${path} must be ${expected}`);
}

function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") fail(path, "a string");
  return value;
}

function stringMap(value: unknown, path: string): void {
  if (value === undefined || value === null) return;
  if (!isObject(value)) fail(path, "an object of strings");
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string") fail(`${path}.${key}`, "a string");
  }
}

function optionalArray(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(path, "a list");
  return value;
}

/** The Secret name `keys` lead to inside a volume source, when present: objects on the way, a string at the end. */
function checkNameAt(source: Json, keys: readonly string[], path: string): void {
  let current: Json = source;
  let at = path;
  for (const [i, key] of keys.entries()) {
    const next = current[key];
    at = `${at}.${key}`;
    if (i === keys.length - 1) optionalString(next, at);
    else if (next === undefined || next === null) return;
    else if (!isObject(next)) fail(at, "an object");
    else current = next;
  }
}

function checkContainer(value: unknown, path: string): void {
  if (!isObject(value)) fail(path, "an object");
  if (typeof value.name !== "string") fail(`${path}.name`, "a string");
  optionalArray(value.env, `${path}.env`).forEach((env, i) => {
    const at = `${path}.env[${i}]`;
    if (!isObject(env)) fail(at, "an object");
    if (typeof env.name !== "string") fail(`${at}.name`, "a string");
    optionalString(env.value, `${at}.value`);
    if (env.valueFrom !== undefined && env.valueFrom !== null) {
      if (!isObject(env.valueFrom)) fail(`${at}.valueFrom`, "an object");
      const ref = env.valueFrom.secretKeyRef;
      if (ref !== undefined && ref !== null) {
        if (!isObject(ref)) fail(`${at}.valueFrom.secretKeyRef`, "an object");
        optionalString(ref.name, `${at}.valueFrom.secretKeyRef.name`);
      }
    }
  });
  optionalArray(value.envFrom, `${path}.envFrom`).forEach((source, i) => {
    const at = `${path}.envFrom[${i}]`;
    if (!isObject(source)) fail(at, "an object");
    if (source.secretRef !== undefined && source.secretRef !== null) {
      if (!isObject(source.secretRef)) fail(`${at}.secretRef`, "an object");
      optionalString(source.secretRef.name, `${at}.secretRef.name`);
    }
  });
  optionalArray(value.volumeMounts, `${path}.volumeMounts`).forEach((mount, i) => {
    const at = `${path}.volumeMounts[${i}]`;
    if (!isObject(mount)) fail(at, "an object");
    if (typeof mount.name !== "string") fail(`${at}.name`, "a string");
    if (typeof mount.mountPath !== "string") fail(`${at}.mountPath`, "a string");
    optionalString(mount.subPath, `${at}.subPath`);
  });
}

function checkVolume(value: unknown, path: string): void {
  if (!isObject(value)) fail(path, "an object");
  if (typeof value.name !== "string") fail(`${path}.name`, "a string");
  if (value.secret !== undefined && value.secret !== null) {
    if (!isObject(value.secret)) fail(`${path}.secret`, "an object");
    optionalString(value.secret.secretName, `${path}.secret.secretName`);
  }
  if (value.projected !== undefined && value.projected !== null) {
    if (!isObject(value.projected)) fail(`${path}.projected`, "an object");
    optionalArray(value.projected.sources, `${path}.projected.sources`).forEach((source, i) => {
      const at = `${path}.projected.sources[${i}]`;
      if (!isObject(source)) fail(at, "an object");
      if (source.secret !== undefined && source.secret !== null) {
        if (!isObject(source.secret)) fail(`${at}.secret`, "an object");
        optionalString(source.secret.name, `${at}.secret.name`);
      }
    });
  }
  for (const { source, path: keys } of VOLUME_SECRET_NAMES) {
    const at = `${path}.${source}`;
    const sourceValue = value[source];
    if (sourceValue === undefined || sourceValue === null) continue;
    if (!isObject(sourceValue)) fail(at, "an object");
    checkNameAt(sourceValue, keys, at);
  }
}

/** Checks the parts of a Pod the webhook reads; returns it typed. Throws ShapeError. */
function checkPod(value: unknown, path: string): Pod {
  if (!isObject(value)) fail(path, "an object");
  dropNulls(value);
  const metadata = value.metadata ?? {};
  if (!isObject(metadata)) fail(`${path}.metadata`, "an object");
  optionalString(metadata.name, `${path}.metadata.name`);
  optionalString(metadata.namespace, `${path}.metadata.namespace`);
  stringMap(metadata.labels, `${path}.metadata.labels`);
  stringMap(metadata.annotations, `${path}.metadata.annotations`);
  const spec = value.spec;
  if (!isObject(spec)) fail(`${path}.spec`, "an object");
  for (const field of CONTAINER_FIELDS) {
    optionalArray(spec[field], `${path}.spec.${field}`).forEach((c, i) => {
      checkContainer(c, `${path}.spec.${field}[${i}]`);
    });
  }
  if (spec.containers === undefined || spec.containers === null) spec.containers = [];
  optionalArray(spec.volumes, `${path}.spec.volumes`).forEach((v, i) => {
    checkVolume(v, `${path}.spec.volumes[${i}]`);
  });
  optionalArray(spec.imagePullSecrets, `${path}.spec.imagePullSecrets`).forEach((ref, i) => {
    const at = `${path}.spec.imagePullSecrets[${i}]`;
    if (!isObject(ref)) fail(at, "an object");
    optionalString(ref.name, `${at}.name`);
  });
  if (value.metadata === undefined) value.metadata = metadata;
  return value as unknown as Pod;
}

/** Like checkPod, for callers outside a review (the offline command). */
export function decodePod(value: unknown): Pod | { error: string } {
  try {
    return checkPod(value, "pod");
  } catch (error) {
    if (error instanceof ShapeError) return { error: error.message };
    throw error;
  }
}

function checkUserInfo(value: unknown): UserInfo {
  if (!isObject(value)) fail("request.userInfo", "an object");
  const username = optionalString(value.username, "request.userInfo.username") ?? "";
  const groups = optionalArray(value.groups, "request.userInfo.groups");
  groups.forEach((g, i) => {
    if (typeof g !== "string") fail(`request.userInfo.groups[${i}]`, "a string");
  });
  const uid = optionalString(value.uid, "request.userInfo.uid");
  return { username, groups: groups as string[], ...(uid === undefined ? {} : { uid }) };
}

function checkGroupVersion(value: unknown, path: string, last: "kind" | "resource"): Json {
  if (!isObject(value)) fail(path, "an object");
  for (const field of ["group", "version", last]) {
    if (typeof (value[field] ?? "") !== "string") fail(`${path}.${field}`, "a string");
  }
  return value;
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
  return {
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
    ...(oldObject === undefined ? {} : { oldObject }),
    dryRun: request.dryRun === true,
  };
}

/** Decodes an AdmissionReview body. Pods are checked only when the request is about pods. */
export function decodeReview(body: unknown): DecodedReview | DecodeError {
  const apiVersion =
    isObject(body) && typeof body.apiVersion === "string" ? body.apiVersion : ADMISSION_API_VERSION;
  const request = isObject(body) && isObject(body.request) ? body.request : undefined;
  const uid = request && typeof request.uid === "string" && request.uid !== "" ? request.uid : undefined;
  const error = (message: string): DecodeError => ({ kind: "decode-error", uid, apiVersion, message });

  if (!isObject(body)) return error("the body must be a JSON object (an AdmissionReview)");
  if (body.kind !== "AdmissionReview")
    return error(`kind must be "AdmissionReview", got ${JSON.stringify(body.kind)}`);
  if (apiVersion !== ADMISSION_API_VERSION) {
    return error(`apiVersion must be "${ADMISSION_API_VERSION}" (set admissionReviewVersions: ["v1"])`);
  }
  if (!request) return error("request is missing");
  if (!uid) return error("request.uid is missing");
  try {
    return { kind: "review", apiVersion, request: checkRequest(request, uid) };
  } catch (caught) {
    if (caught instanceof ShapeError) return error(caught.message);
    throw caught;
  }
}
