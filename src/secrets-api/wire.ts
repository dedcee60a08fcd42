// The platform secrets service's wire format, the one the `apolo` CLI speaks (apolo_sdk/_secrets.py):
// the fields of a request read and checked, the answers shaped. Every field is the caller's text:
// read as own properties only, checked in one pass (no regex), and quoted at most 100 characters.
// Pure: no I/O.

import { isOwnerName } from "../core/identity.js";
import { SECRET_NAME_RULE } from "../core/messages.js";
import { isValidSecretName } from "../core/reference.js";
import { isBase64 } from "./base64.js";
import { excerpt } from "./excerpt.js";
import { HttpError } from "./http-error.js";

/** The platform's limit on one secret's value. */
export const MAX_VALUE_BYTES = 1024 * 1024;

/** The org and project a request names ("org_name", "project_name"); null where it names none. */
export interface Placement {
  org: string | null;
  project: string | null;
}

/** One secret as the API answers it: names only, never a value. */
export interface SecretEntry {
  key: string;
  org_name: string | null;
  project_name: string | null;
  owner: string;
}

// An org or project name becomes part of a store's name (project--{org}--{project}--secrets, a
// DNS subdomain) and of a pod's label value (at most 63 characters); "--" separates the parts.
const MAX_PLACE_NAME = 63;
export const PLACE_NAME_RULE =
  "1 to 63 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, with no '--', '..', '.-' or '-.'";

/**
 * Whether `name` may name an org or a project (PLACE_NAME_RULE): the owner rule of
 * core/identity.ts (one pass, no regex) for a single part, at most a label's length.
 */
export function isPlaceName(name: string): boolean {
  return name.length <= MAX_PLACE_NAME && !name.includes("/") && isOwnerName(name);
}

type PlaceField = "org_name" | "project_name";

/** A field of a parsed JSON object, only when the object itself has it (never an inherited property). */
export function ownField(object: object, name: string): unknown {
  return Object.hasOwn(object, name) ? (object as Record<string, unknown>)[name] : undefined;
}

/** One org or project field: absent, null and "" name none; a string must follow the rule. */
function placeName(field: PlaceField, value: unknown): string | null | HttpError {
  if (value === undefined || value === null || value === "") return null;
  if (Array.isArray(value)) return new HttpError(400, `give ${field} once: it names one org or project`);
  if (typeof value !== "string") return new HttpError(400, `${field} must be a string or null`);
  if (!isPlaceName(value)) {
    return new HttpError(400, `invalid ${field} ${JSON.stringify(excerpt(value))}: ${PLACE_NAME_RULE}`);
  }
  return value;
}

function placementOf(read: (field: PlaceField) => unknown): Placement | HttpError {
  const org = placeName("org_name", read("org_name"));
  if (org instanceof HttpError) return org;
  const project = placeName("project_name", read("project_name"));
  if (project instanceof HttpError) return project;
  return { org, project };
}

/** The org and project of a POST body (an object). */
export function placementOfBody(body: object): Placement | HttpError {
  return placementOf((field) => ownField(body, field));
}

/** The org and project of a query string (`?org_name=&project_name=`); a repeated field is refused. */
export function placementOfQuery(query: unknown): Placement | HttpError {
  const fields = typeof query === "object" && query !== null ? query : {};
  return placementOf((field) => ownField(fields, field));
}

const BODY_SHAPE = '{"key": "NAME", "value": "<base64>", "org_name": "ORG", "project_name": "PROJECT"}';

/** The body's "key": a valid secret name, or the error saying what is wrong. */
export function bodyKey(body: unknown): string | HttpError {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return new HttpError(400, `the body must be a JSON object: ${BODY_SHAPE}`);
  }
  const key = ownField(body, "key");
  if (typeof key !== "string") {
    return new HttpError(400, `the body needs "key", the secret's name as a string: ${SECRET_NAME_RULE}`);
  }
  if (!isValidSecretName(key)) {
    return new HttpError(400, `invalid secret name ${JSON.stringify(excerpt(key))}: ${SECRET_NAME_RULE}`);
  }
  return key;
}

/** The body's "value": base64 of at most MAX_VALUE_BYTES, or the error saying what is wrong. */
export function bodyValue(body: object, key: string): string | HttpError {
  const value = ownField(body, "value");
  if (typeof value !== "string" || !isBase64(value)) {
    return new HttpError(400, "value must be the secret's bytes in base64 (standard alphabet, with padding)");
  }
  if (Buffer.byteLength(value, "base64") > MAX_VALUE_BYTES) {
    return new HttpError(413, `the value of '${key}' is larger than 1 MiB, the limit of a secret`);
  }
  return value;
}

/** A path's key: a valid secret name, or the error saying what is wrong. */
export function pathKey(key: string): string | HttpError {
  return isValidSecretName(key)
    ? key
    : new HttpError(400, `invalid secret name '${excerpt(key)}': ${SECRET_NAME_RULE}`);
}

/** The answer for one secret: its name, the org and project as the request gave them, its owner. */
export function secretEntry(key: string, placement: Placement, owner: string): SecretEntry {
  return { key, org_name: placement.org, project_name: placement.project, owner };
}

/** The platform service's answer to removing a key the store does not have. */
export function notFoundMessage(key: string): string {
  return `Secret '${key}' not found`;
}
