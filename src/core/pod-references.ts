// The secret references a pod makes (`secret:` env values and the file annotation's entries),
// read with their grammar problems, then checked against the job's owner and this cluster.

import type { ContainerField, Pod } from "../admission/types.js";
import { SECRET_VOLUMES_ANNOTATION } from "./contract.js";
import { type FileRequest, readFileRequests } from "./file-requests.js";
import * as messages from "./messages.js";
import { type Owner, referencedOwner } from "./owner.js";
import type { Scope } from "./policy.js";
import { type Problem, problem } from "./problem.js";
import { isReference, parseReference, type SecretRef } from "./reference.js";

/** "create": init and regular containers and files; "ephemeral": only ephemeral containers' env. */
export type PlanMode = "create" | "ephemeral";

export interface EnvReference {
  ref: SecretRef;
  field: ContainerField;
  containerIndex: number;
  envIndex: number;
  name: string;
  where: string;
}

export interface PodReferences {
  env: EnvReference[];
  /** The file annotation's value, when the pod has one (read at creation only). */
  annotation: string | undefined;
  files: FileRequest[];
  /** Grammar and annotation problems, in the pod's order: env first, then the annotation. */
  problems: Problem[];
}

function containerFields(mode: PlanMode): readonly ContainerField[] {
  return mode === "create" ? ["initContainers", "containers"] : ["ephemeralContainers"];
}

/** Every reference the pod makes in this mode, and what is wrong with how they are written. */
export function findReferences(pod: Pod, mode: PlanMode, scope: Scope): PodReferences {
  const { env, problems } = envReferences(pod, mode, scope);
  const annotation = mode === "create" ? pod.metadata.annotations?.[SECRET_VOLUMES_ANNOTATION] : undefined;
  const files = readFileRequests(annotation, scope);
  for (const { kind, message } of files.problems) {
    problems.push(problem(422, kind === "grammar" ? "invalid-reference" : "invalid-volumes", message));
  }
  return { env, annotation, files: files.requests, problems };
}

function envReferences(pod: Pod, mode: PlanMode, scope: Scope): { env: EnvReference[]; problems: Problem[] } {
  const env: EnvReference[] = [];
  const problems: Problem[] = [];
  for (const field of containerFields(mode)) {
    (pod.spec[field] ?? []).forEach((container, containerIndex) => {
      (container.env ?? []).forEach((variable, envIndex) => {
        if (variable.value === undefined || !isReference(variable.value)) return;
        const where = messages.places.env(variable.name, messages.places.container(field, container.name));
        const ref = parseReference(variable.value, scope);
        if (ref.kind === "grammar-error") {
          problems.push(problem(422, "invalid-reference", messages.invalidReference(where, ref, scope)));
          return;
        }
        env.push({ ref, field, containerIndex, envIndex, name: variable.name, where });
      });
    });
  }
  return { env, problems };
}

/** True when the pod writes references at all, well or badly. */
export function hasReferences(refs: PodReferences): boolean {
  return refs.env.length > 0 || refs.annotation !== undefined || refs.problems.length > 0;
}

/** Where the pod uses references, for the no-owner message. */
export function referencePlaces(refs: PodReferences): string[] {
  return [
    ...refs.env.map((r) => r.where),
    ...(refs.annotation !== undefined ? [messages.places.annotation()] : []),
  ];
}

/**
 * Each reference must name the job's owner (and this cluster): the keys wanted from the owner's
 * store, and the references that break the rule.
 */
export function checkReferences(
  refs: PodReferences,
  owner: Owner,
  clusterName: string | undefined,
): { wanted: Set<string>; problems: Problem[] } {
  const wanted = new Set<string>();
  const problems: Problem[] = [];
  const check = (ref: SecretRef, where: string) => {
    if (ref.cluster !== undefined && ref.cluster !== clusterName) {
      problems.push(
        problem(422, "wrong-cluster", messages.wrongCluster(ref.text, where, ref.cluster, clusterName)),
      );
      return;
    }
    const named = referencedOwner(ref, owner);
    if (named !== owner.display) {
      problems.push(
        problem(403, "foreign-secret", messages.foreignSecret(ref.text, where, named, owner.display)),
      );
      return;
    }
    wanted.add(ref.key);
  };
  for (const envRef of refs.env) check(envRef.ref, envRef.where);
  refs.files.forEach((request, i) => {
    check(request.ref, messages.places.annotationEntry(i));
  });
  return { wanted, problems };
}
