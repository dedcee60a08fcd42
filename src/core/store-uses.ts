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
  // Each place is worded only for a store's name (bench/: wording every env var's place was a
  // third of what a pod without references allocated).
  for (const field of CONTAINER_FIELDS) {
    for (const container of pod.spec[field] ?? []) {
      for (const env of container.env ?? []) {
        const name = env.valueFrom?.secretKeyRef?.name;
        if (isStore(name)) note(uses, name, places.env(env.name, places.container(field, container.name)));
      }
      for (const source of container.envFrom ?? []) {
        const name = source.secretRef?.name;
        if (isStore(name)) note(uses, name, places.envFrom(places.container(field, container.name)));
      }
    }
  }
  for (const volume of pod.spec.volumes ?? []) {
    const secretName = volume.secret?.secretName;
    if (isStore(secretName)) note(uses, secretName, places.volume(volume.name));
    for (const source of volume.projected?.sources ?? []) {
      const name = source.secret?.name;
      if (isStore(name)) note(uses, name, places.projectedVolume(volume.name));
    }
    for (const { source, path, field } of VOLUME_SOURCES) {
      const name = nameAt(volume[source], path);
      if (isStore(name)) note(uses, name, places.volumeSource(volume.name, field));
    }
  }
  // The kubelet sends these credentials to whichever registry the pod's images name.
  for (const ref of pod.spec.imagePullSecrets ?? []) {
    if (isStore(ref.name)) note(uses, ref.name, places.imagePullSecrets());
  }
  return uses;
}

function isStore(name: string | undefined): name is string {
  return name !== undefined && storeOwner(name) !== undefined;
}

function note(uses: StoreUse[], name: string, where: string): void {
  uses.push({ where, store: name, storeOwner: storeOwner(name) as string });
}
