// Direct uses of store Secrets in a pod: secretKeyRef, envFrom, secret volumes and projected
// sources. Anyone who can create pods could otherwise read another owner's store by name.

import { CONTAINER_FIELDS, type Pod } from "../admission/types.js";
import { storeOwner } from "./owner.js";

export interface StoreUse {
  /** Where in the pod, for messages: "env FOO of container 'main'". */
  where: string;
  store: string;
  /** The store's owner, slash form. */
  storeOwner: string;
}

const CONTAINER_WORDS = {
  initContainers: "init container",
  containers: "container",
  ephemeralContainers: "ephemeral container",
} as const;

/** Every reference in the pod to a Secret whose name is a store's name. */
export function findStoreUses(pod: Pod): StoreUse[] {
  const uses: StoreUse[] = [];
  const note = (name: string | undefined, where: string) => {
    if (name === undefined) return;
    const owner = storeOwner(name);
    if (owner !== undefined) uses.push({ where, store: name, storeOwner: owner });
  };
  for (const field of CONTAINER_FIELDS) {
    for (const container of pod.spec[field] ?? []) {
      const of = `${CONTAINER_WORDS[field]} '${container.name}'`;
      for (const env of container.env ?? [])
        note(env.valueFrom?.secretKeyRef?.name, `env ${env.name} of ${of}`);
      for (const source of container.envFrom ?? []) note(source.secretRef?.name, `envFrom of ${of}`);
    }
  }
  for (const volume of pod.spec.volumes ?? []) {
    note(volume.secret?.secretName, `volume '${volume.name}'`);
    for (const source of volume.projected?.sources ?? [])
      note(source.secret?.name, `projected volume '${volume.name}'`);
  }
  return uses;
}

export { CONTAINER_WORDS };
