// Turns a shared case into what each suite sends, and checks an answer against the case.

import fastJsonPatch, { type Operation } from "fast-json-patch";
import { expect } from "vitest";
import type { Policy } from "../../src/core/policy.js";
import { reviewFor } from "./review.js";

export { reviewFor };

import {
  type AdmissionCase,
  CASE_CLUSTER,
  type JsonObject,
  PLATFORM_GROUP,
  PLATFORM_USER,
  type PodOut,
} from "../cases/cases.js";

export function casePolicy(scope: AdmissionCase["scope"] = "user"): Policy {
  return {
    scope,
    clusterName: CASE_CLUSTER,
    trustedUsers: new Set([PLATFORM_USER]),
    trustedGroups: new Set([PLATFORM_GROUP]),
    trustedControllers: new Set(),
  };
}

export function submitterOf(c: AdmissionCase): { username: string; groups: string[] } {
  return { username: c.user ?? PLATFORM_USER, groups: c.groups ?? [] };
}

export interface Answer {
  allowed: boolean;
  code?: number;
  message?: string;
  patch: Operation[];
}

/** Applies the patch to a copy of the pod, failing when any operation does not apply. */
export function applyPatch(pod: JsonObject, patch: readonly Operation[]): JsonObject {
  return fastJsonPatch.applyPatch(structuredClone(pod), structuredClone(patch) as Operation[], true, false)
    .newDocument as JsonObject;
}

/**
 * Checks an answer against the case. For allowed pods it applies the patch, runs the case's
 * checks, and asks `readmit` for the patched pod's answer, which must be an empty patch.
 */
export async function expectCaseAnswer(
  c: AdmissionCase,
  answer: Answer,
  readmit: (pod: JsonObject) => Promise<Answer>,
): Promise<void> {
  if (!c.expect.allowed) {
    expect(answer.allowed, `expected a refusal, got allowed with ${JSON.stringify(answer.patch)}`).toBe(
      false,
    );
    expect(answer.code).toBe(c.expect.code);
    if (typeof c.expect.message === "string") expect(answer.message).toBe(c.expect.message);
    else expect(answer.message).toMatch(c.expect.message);
    return;
  }
  expect(answer.allowed, `expected allowed, got: ${answer.message}`).toBe(true);
  if (!c.expect.patched) {
    expect(answer.patch).toEqual([]);
    return;
  }
  expect(answer.patch.length).toBeGreaterThan(0);
  const mutated = applyPatch(c.pod, answer.patch);
  c.expect.check?.(mutated as unknown as PodOut);
  expect(JSON.stringify(mutated)).not.toMatch(/"value":"secret:/);
  const again = await readmit(mutated);
  expect(again.allowed, `reinvocation refused: ${again.message}`).toBe(true);
  expect(again.patch).toEqual([]);
}
