// The secret references a pod makes (`secret:` env values and the file annotation's entries),
// read with their grammar problems, then checked against the job's owner and this cluster.

import type { Container, ContainerField, EnvVar, Pod } from "../admission/types.js";
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
  /** The container's name: `whereOf` words the place only when a message needs it. */
  container: string;
}

/** "env NAME of container 'C'": built on demand, as most references never appear in a message. */
export function whereOf(reference: Pick<EnvReference, "field" | "container" | "name">): string {
  return messages.places.env(reference.name, messages.places.container(reference.field, reference.container));
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
  // Plain loops: this runs once per env var of every pod (bench/: a closure per container and
  // per variable cost more than the references' parsing in a large pod).
  for (const field of containerFields(mode)) {
    const containers = pod.spec[field] ?? [];
    for (let containerIndex = 0; containerIndex < containers.length; containerIndex++) {
      const container = containers[containerIndex] as Container;
      const variables = container.env ?? [];
      for (let envIndex = 0; envIndex < variables.length; envIndex++) {
        const variable = variables[envIndex] as EnvVar;
        if (variable.value === undefined || !isReference(variable.value)) continue;
        const ref = parseReference(variable.value, scope);
        if (ref.kind === "grammar-error") {
          const where = whereOf({ field, container: container.name, name: variable.name });
          problems.push(problem(422, "invalid-reference", messages.invalidReference(where, ref, scope)));
          continue;
        }
        env.push({ ref, field, containerIndex, envIndex, name: variable.name, container: container.name });
      }
    }
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
    ...refs.env.map((r) => whereOf(r)),
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
  // `at`: the env reference, or the annotation entry's index; worded (placeOf) only for a
  // reference that breaks a rule, as most never appear in a message.
  const check = (ref: SecretRef, at: EnvReference | number) => {
    if (ref.cluster !== undefined && ref.cluster !== clusterName) {
      problems.push(
        problem(422, "wrong-cluster", messages.wrongCluster(ref.text, placeOf(at), ref.cluster, clusterName)),
      );
      return;
    }
    const named = referencedOwner(ref, owner);
    if (named !== owner.display) {
      problems.push(
        problem(403, "foreign-secret", messages.foreignSecret(ref.text, placeOf(at), named, owner.display)),
      );
      return;
    }
    wanted.add(ref.key);
  };
  for (const envRef of refs.env) check(envRef.ref, envRef);
  for (let i = 0; i < refs.files.length; i++) check((refs.files[i] as FileRequest).ref, i);
  return { wanted, problems };
}

function placeOf(at: EnvReference | number): string {
  return typeof at === "number" ? messages.places.annotationEntry(at) : whereOf(at);
}
