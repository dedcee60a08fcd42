// Value checks shared by every command: each turns the text of one option into a typed value, or
// throws a ConfigError that names the option (flag and variable) and says what it accepts.

import { isIP } from "node:net";
import { isDigits, isDnsLabel, isDnsSubdomain, isNamePart, splitDigits } from "../core/charset.js";
import type { Scope } from "../core/policy.js";
import type { LogLevel } from "../lifecycle/logger.js";

/** A bad command line or environment: main prints the message and exits 2. */
export class ConfigError extends Error {}

export function integer(name: string, text: string, min: number, max: number): number {
  if (!isDigits(text.trim())) throw new ConfigError(`${name} must be a whole number, got '${text}'`);
  const value = Number(text);
  if (value < min || value > max)
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "10m", "2160h", "30d" → milliseconds. */
export function duration(name: string, text: string): number {
  const { digits, rest: unit } = splitDigits(text.trim());
  const unitMs = Object.hasOwn(DURATION_UNITS, unit) ? DURATION_UNITS[unit] : undefined;
  if (digits === "" || unitMs === undefined)
    throw new ConfigError(`${name} must be a duration like 90s, 10m, 720h or 30d, got '${text}'`);
  const value = Number(digits) * unitMs;
  if (value <= 0) throw new ConfigError(`${name} must be longer than zero`);
  return value;
}

export function bool(name: string, text: string): boolean {
  if (text === "true" || text === "1") return true;
  if (text === "false" || text === "0" || text === "") return false;
  throw new ConfigError(`${name} must be true or false, got '${text}'`);
}

/** "a, b,,c" → ["a", "b", "c"]. */
export function list(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

export function scopeOf(name: string, text: string): Scope {
  if (text === "user" || text === "project") return text;
  throw new ConfigError(`${name} must be 'user' or 'project', got '${text}'`);
}

export function clusterNameOf(name: string, text: string): string | undefined {
  if (text === "") return undefined;
  if (!isNamePart(text)) throw new ConfigError(`${name} '${text}' is not a valid cluster name`);
  return text;
}

const LOG_LEVELS = ["debug", "info", "warn", "error"] as const satisfies readonly LogLevel[];

/** The one log-level check, for every command that logs. */
export function logLevelOf(name: string, text: string): LogLevel {
  const level = LOG_LEVELS.find((candidate) => candidate === text);
  if (level === undefined) throw new ConfigError(`${name} must be debug, info, warn or error, got '${text}'`);
  return level;
}

/** A namespace name (a DNS label of at most 63 characters). */
export function isNamespace(text: string): boolean {
  return text.length <= 63 && isDnsLabel(text);
}

export function namespacesOf(name: string, text: string): string[] {
  const namespaces = list(text);
  for (const namespace of namespaces) {
    if (!isNamespace(namespace))
      throw new ConfigError(`${name}: '${namespace}' is not a valid namespace name`);
  }
  return namespaces;
}

function isHostName(text: string): boolean {
  return text.length <= 253 && isDnsSubdomain(text);
}

/** Where to listen: an IPv4 or IPv6 address, or a host name such as localhost. */
export function bindAddressOf(name: string, text: string): string {
  if (isIP(text) !== 0 || isHostName(text)) return text;
  throw new ConfigError(
    `${name} must be an IP address (0.0.0.0 or :: for every interface) or a host name, got '${text}'`,
  );
}

/** Names of a serving certificate: DNS names, a leading "*." allowed. */
export function dnsNamesOf(name: string, text: string): string[] {
  const names = list(text);
  for (const dnsName of names) {
    const host = dnsName.startsWith("*.") ? dnsName.slice(2) : dnsName;
    if (!isHostName(host)) throw new ConfigError(`${name}: '${dnsName}' is not a DNS name`);
  }
  return names;
}

export function ipAddressesOf(name: string, text: string): string[] {
  const addresses = list(text);
  for (const address of addresses) {
    if (isIP(address) === 0) throw new ConfigError(`${name}: '${address}' is not an IP address`);
  }
  return addresses;
}

/** "NAMESPACE/NAME" of a Secret, or undefined when empty. */
export function secretRefOf(name: string, text: string): { namespace: string; name: string } | undefined {
  if (text === "") return undefined;
  const [namespace, secretName, ...rest] = text.split("/");
  if (!namespace || !secretName || rest.length > 0 || !isNamespace(namespace) || !isHostName(secretName))
    throw new ConfigError(`${name} must be NAMESPACE/NAME, got '${text}'`);
  return { namespace, name: secretName };
}

// What label selectors are made of (keys, values, =, ==, !=, !, in/notin lists, commas).
const SELECTOR_CHARS = new Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/=!(), -");

function isSelectorText(text: string): boolean {
  if (text.length === 0 || text.length > 1024) return false;
  for (const char of text) if (!SELECTOR_CHARS.has(char)) return false;
  return true;
}

/** "a=b;c" → ["a=b", "c"]; refuses an empty list: the cache must never ask for every Secret. */
export function labelSelectorsOf(name: string, text: string): string[] {
  const selectors = text
    .split(";")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (selectors.length === 0) {
    throw new ConfigError(
      `${name} must name at least one label selector (separated by ';'), e.g. platform.apolo.us/secrets-store=true: the webhook reads only labelled store Secrets`,
    );
  }
  if (selectors.length > 30)
    throw new ConfigError(
      `${name}: at most 30 label selectors (each is a list and a watch), got ${selectors.length}`,
    );
  for (const selector of selectors) {
    if (!isSelectorText(selector))
      throw new ConfigError(
        `${name}: '${selector}' is not a label selector (keys, values, =, ==, !=, !, in (...), notin (...), commas)`,
      );
  }
  return selectors;
}
