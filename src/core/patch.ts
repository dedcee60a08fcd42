// From a plan to RFC 6902 operations. Each operation is valid against the document as the
// previous ones left it: lists are created when absent and appended to otherwise.

import type { PatchOperation } from "../admission/respond.js";
import type { EnvVar, Volume } from "../admission/types.js";
import type { Plan } from "./plan.js";
import { pointer } from "./pointer.js";

// Secret files are readable by the owner of the mount only (0400), as the platform mounts them.
const SECRET_FILE_MODE = 0o400;

export function toJsonPatch(plan: Plan): PatchOperation[] {
  const operations: PatchOperation[] = [];
  const store = plan.store;
  if (store === undefined) return operations;

  // Replacing the whole entry keeps its name and its position and drops the literal value.
  for (const change of plan.env) {
    const value: EnvVar = {
      name: change.name,
      valueFrom: { secretKeyRef: { name: store, key: change.key } },
    };
    operations.push({
      op: "replace",
      // Field names and indices never need escaping: the pointer is written out (bench/: the
      // generic pointer() was a tenth of a large pod's admission).
      path: `/spec/${change.field}/${change.containerIndex}/env/${change.envIndex}`,
      value,
    });
  }

  if (plan.volume) {
    const volume: Volume = {
      name: plan.volume.name,
      secret: { secretName: plan.volume.store, defaultMode: SECRET_FILE_MODE },
    };
    operations.push(
      plan.volume.createList
        ? { op: "add", path: pointer("spec", "volumes"), value: [volume] }
        : { op: "add", path: pointer("spec", "volumes", "-"), value: volume },
    );
  }

  for (const change of plan.mounts) {
    const list = pointer("spec", change.field, change.containerIndex, "volumeMounts");
    if (change.createList) {
      operations.push({ op: "add", path: list, value: change.mounts });
    } else {
      for (const mount of change.mounts) operations.push({ op: "add", path: `${list}/-`, value: mount });
    }
  }
  return operations;
}
