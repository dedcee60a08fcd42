// Direct uses of store Secrets in a pod: every field of the Pod spec that names a Secret, in every
// container kind and volume source. Anyone who can create pods could otherwise read another
// owner's store by name, or hand it to a volume driver or image registry of their choosing.

import { CONTAINER_FIELDS, type Pod, VOLUME_SECRET_NAMES } from "../admission/types.js";
import { places } from "./messages.js";
import { storeOwner } from "./owner.js";

export interface StoreUse {
  /** Where in the pod, for messages: "env FOO of container 'main'". */
  where: string;
  store: string;
  /** The store's owner, slash form. */
  storeOwner: string;
}

/**
 * Every Pod field that can name a Secret and that findStoreUses reads, as paths into the Pod
 * ("[]" for each list item). The end-to-end suite compares it with the API server's Pod schema,
 * so a field added by a new Kubernetes version fails a test instead of opening a hole.
 */
export const SECRET_NAME_FIELDS: readonly string[] = [
  ...CONTAINER_FIELDS.flatMap((field) => [
    `spec.${field}[].env[].valueFrom.secretKeyRef.name`,
    `spec.${field}[].envFrom[].secretRef.name`,
  ]),
  "spec.imagePullSecrets[].name",
  "spec.volumes[].secret.secretName",
  "spec.volumes[].projected.sources[].secret.name",
  ...VOLUME_SECRET_NAMES.map(({ source, path }) => `spec.volumes[].${[source, ...path].join(".")}`),
];

/** The further volume sources, each with its words in messages: the path less a trailing ".name". */
const VOLUME_SOURCES = VOLUME_SECRET_NAMES.map(({ source, path }) => ({
  source,
  path,
  field: [source, ...(path.at(-1) === "name" ? path.slice(0, -1) : path)].join("."),
}));

/** The string at `keys` inside a volume source the decoder has checked; undefined when absent. */
function nameAt(source: unknown, keys: readonly string[]): string | undefined {
  let value = source;
  for (const key of keys) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === "string" ? value : undefined;
}

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
      const of = places.container(field, container.name);
      for (const env of container.env ?? [])
        note(env.valueFrom?.secretKeyRef?.name, places.env(env.name, of));
      for (const source of container.envFrom ?? []) note(source.secretRef?.name, places.envFrom(of));
    }
  }
  for (const volume of pod.spec.volumes ?? []) {
    note(volume.secret?.secretName, places.volume(volume.name));
    for (const source of volume.projected?.sources ?? [])
      note(source.secret?.name, places.projectedVolume(volume.name));
    for (const { source, path, field } of VOLUME_SOURCES)
      note(nameAt(volume[source], path), places.volumeSource(volume.name, field));
  }
  // The kubelet sends these credentials to whichever registry the pod's images name.
  for (const ref of pod.spec.imagePullSecrets ?? []) note(ref.name, places.imagePullSecrets());
  return uses;
}
