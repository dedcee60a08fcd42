// The shape checks of the decoder, and the Pod's: only the fields this webhook reads, each wrong
// shape a ShapeError naming the path. A workload's pod template is checked as a Pod.

import { dropNulls } from "./drop-nulls.js";
import { CONTAINER_FIELDS, type Pod, VOLUME_SECRET_NAMES } from "./types.js";

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class ShapeError extends Error {}

export function fail(path: string, expected: string): never {
  throw new ShapeError(`${path} must be ${expected}`);
}

export function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") fail(path, "a string");
  return value;
}

function stringMap(value: unknown, path: string): void {
  if (value === undefined || value === null) return;
  if (!isObject(value)) fail(path, "an object of strings");
  // No array of pairs per call: labels and annotations are read on every admission.
  for (const key in value) {
    if (Object.hasOwn(value, key) && typeof value[key] !== "string") fail(`${path}.${key}`, "a string");
  }
}

export function optionalArray(value: unknown, path: string): unknown[] {
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
  // A pod may hold thousands of env entries: their paths are written only for an error.
  const variables = optionalArray(value.env, `${path}.env`);
  for (let i = 0; i < variables.length; i++) {
    const env = variables[i];
    if (!isObject(env)) fail(`${path}.env[${i}]`, "an object");
    if (typeof env.name !== "string") fail(`${path}.env[${i}].name`, "a string");
    if (!isAbsentOrString(env.value)) fail(`${path}.env[${i}].value`, "a string");
    if (env.valueFrom !== undefined && env.valueFrom !== null)
      checkValueFrom(env.valueFrom, `${path}.env[${i}]`);
  }
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

function isAbsentOrString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === "string";
}

function checkValueFrom(valueFrom: unknown, at: string): void {
  if (!isObject(valueFrom)) fail(`${at}.valueFrom`, "an object");
  const ref = valueFrom.secretKeyRef;
  if (ref !== undefined && ref !== null) {
    if (!isObject(ref)) fail(`${at}.valueFrom.secretKeyRef`, "an object");
    optionalString(ref.name, `${at}.valueFrom.secretKeyRef.name`);
  }
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
export function checkPod(value: unknown, path: string): Pod {
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
