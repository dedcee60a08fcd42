// Secret files: the one secret volume per store, and each file request's mounts into its target
// containers (init and regular), with the paths each container already uses.

import {
  CONTAINER_FIELDS,
  type Container,
  type ContainerField,
  type Pod,
  type VolumeMount,
} from "../admission/types.js";
import type { FileRequest } from "./file-requests.js";
import { LIMITS } from "./limits.js";
import * as messages from "./messages.js";
import type { Owner } from "./owner.js";
import type { MountChange, Plan } from "./plan.js";
import { type Problem, problem } from "./problem.js";
import { volumeNameFor } from "./volume-name.js";

export interface FilesPlan {
  volume: Plan["volume"];
  mounts: MountChange[];
  problems: Problem[];
}

interface Target {
  field: ContainerField;
  index: number;
  container: Container;
}

/** One target container as the mounts are planned, built on its first use. */
interface ContainerMounts {
  target: Target;
  /** Paths already taken, by whom: existing mounts first, then each request in order. */
  paths: Map<string, string>;
  /** The mounts a previous invocation injected. */
  injected: Set<string>;
  change: MountChange | undefined;
}

function invalidVolumes(message: string): Problem {
  return problem(422, "invalid-volumes", message);
}

/** The volume and mounts the file requests need, for the job's owner. */
export function planFiles(pod: Pod, requests: readonly FileRequest[], owner: Owner): FilesPlan {
  if (requests.length === 0) return { volume: undefined, mounts: [], problems: [] };
  const problems: Problem[] = [];
  const volumeName = volumeNameFor(owner.id);
  const existing = pod.spec.volumes?.find((v) => v.name === volumeName);
  if (existing && existing.secret?.secretName !== owner.store)
    problems.push(invalidVolumes(messages.volumeNameTaken(volumeName)));
  const volume = existing
    ? undefined
    : { name: volumeName, store: owner.store, createList: pod.spec.volumes == null };
  const mounts = planMounts(pod, requests, volumeName);
  problems.push(...mounts.problems);
  return { volume, mounts: mounts.changes, problems };
}

/** Init and regular containers by name: the containers a file request may name. */
function mountTargets(pod: Pod): Map<string, Target> {
  const byName = new Map<string, Target>();
  for (const field of CONTAINER_FIELDS) {
    if (field === "ephemeralContainers") continue;
    (pod.spec[field] ?? []).forEach((container, index) => {
      byName.set(container.name, { field, index, container });
    });
  }
  return byName;
}

function planMounts(
  pod: Pod,
  requests: readonly FileRequest[],
  volumeName: string,
): { changes: MountChange[]; problems: Problem[] } {
  const targets = mountTargets(pod);
  const regular = (pod.spec.containers ?? []).map((c) => c.name);
  // Entries × target containers is the patch's size: bound it before doing the work.
  let mountCount = 0;
  for (const request of requests) mountCount += (request.containers ?? regular).length;
  if (mountCount > LIMITS.fileMounts) {
    return { changes: [], problems: [invalidVolumes(messages.tooManyMounts(mountCount))] };
  }
  const problems: Problem[] = [];
  const changes: MountChange[] = [];
  const states = new Map<string, ContainerMounts>();
  for (const request of requests) {
    for (const name of request.containers ?? regular) {
      const target = targets.get(name);
      if (!target) {
        const known = [...targets.keys()];
        problems.push(invalidVolumes(messages.unknownContainer(name, request.source, known)));
        continue;
      }
      let state = states.get(name);
      if (!state) {
        state = containerMounts(target, volumeName);
        states.set(name, state);
      }
      const mount: VolumeMount = {
        name: volumeName,
        mountPath: request.mountPath,
        subPath: request.ref.key,
        readOnly: true,
      };
      const duplicate = addMount(state, mount, request.source, changes);
      if (duplicate) problems.push(invalidVolumes(duplicate));
    }
  }
  return { changes, problems };
}

function containerMounts(target: Target, volumeName: string): ContainerMounts {
  const current = target.container.volumeMounts ?? [];
  return {
    target,
    paths: new Map(current.map((m) => [m.mountPath, messages.places.existingMount(m.name)])),
    injected: new Set(current.filter((m) => m.name === volumeName).map((m) => injectedKey(m))),
    change: undefined,
  };
}

/**
 * Adds one mount to its container's change (created on first use, appended to `changes`);
 * returns the problem message when another mount already holds the path.
 */
function addMount(
  state: ContainerMounts,
  mount: VolumeMount,
  source: string,
  changes: MountChange[],
): string | undefined {
  // Already injected (reinvocation): nothing to do for this one.
  if (state.injected.has(injectedKey(mount))) return undefined;
  const holder = state.paths.get(mount.mountPath);
  const { field, index, container } = state.target;
  if (holder !== undefined) return messages.duplicateMount(mount.mountPath, container.name, holder, source);
  state.paths.set(mount.mountPath, source);
  if (!state.change) {
    state.change = { field, containerIndex: index, createList: container.volumeMounts == null, mounts: [] };
    changes.push(state.change);
  }
  state.change.mounts.push(mount);
  return undefined;
}

/** A mount of the secret volume, by what it shows where (JSON: no separator can be forged). */
function injectedKey(mount: VolumeMount): string {
  return JSON.stringify([mount.mountPath, mount.subPath ?? null]);
}
