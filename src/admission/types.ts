// The AdmissionReview wire contract (admission.k8s.io/v1), named by JSON field names.
// Only the parts of a Pod this webhook reads are typed; everything else passes through untouched.

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface UserInfo {
  username: string;
  uid?: string;
  groups: readonly string[];
}

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  /** "" for the resource itself, "ephemeralcontainers" for pods/ephemeralcontainers. */
  subResource: string;
  name: string;
  namespace: string;
  operation: Operation;
  userInfo: UserInfo;
  object: Pod | undefined;
  /** The stored pod, for an UPDATE. */
  oldObject?: Pod;
  /** A workload kind that carries a pod template (WORKLOAD_TEMPLATES): its template, checked as a pod. */
  workload?: Workload;
  dryRun: boolean;
}

/** A Job, CronJob, Deployment, ReplicaSet, StatefulSet or DaemonSet, as far as the webhook reads it. */
export interface Workload {
  /** The kind, as "Job": words in messages. */
  kind: string;
  name: string;
  /** The pod template sent (for a CronJob, its Job template's), with the shape of a Pod. */
  template: Pod;
  /** The stored object's template, for an UPDATE. */
  oldTemplate?: Pod;
}

/**
 * The workload kinds whose pod template the webhook checks, by "group/Kind", and the path from
 * the object to the template. A Map: the kind comes from the request.
 */
export const WORKLOAD_TEMPLATES: ReadonlyMap<string, readonly string[]> = new Map([
  // The replication controller is not trusted by default, but a shared controller identity
  // (--use-service-account-credentials=false) covers it: its template is checked like the rest.
  ["/ReplicationController", ["spec", "template"]],
  ["batch/Job", ["spec", "template"]],
  ["batch/CronJob", ["spec", "jobTemplate", "spec", "template"]],
  ["apps/Deployment", ["spec", "template"]],
  ["apps/ReplicaSet", ["spec", "template"]],
  ["apps/StatefulSet", ["spec", "template"]],
  ["apps/DaemonSet", ["spec", "template"]],
]);

export interface Status {
  code: number;
  message: string;
  reason?: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: Status;
  patchType?: "JSONPatch";
  /** base64 of the JSON Patch document */
  patch?: string;
  warnings?: string[];
  /** Written to the API server's audit log as `<webhook name>/<key>`. */
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReviewResponse {
  apiVersion: string;
  kind: "AdmissionReview";
  response: AdmissionResponse;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface SecretKeySelector {
  name?: string;
  key: string;
  optional?: boolean;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: SecretKeySelector;
    [other: string]: unknown;
  };
}

export interface EnvFromSource {
  prefix?: string;
  secretRef?: { name?: string; optional?: boolean };
  [other: string]: unknown;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
  [other: string]: unknown;
}

export interface Container {
  name: string;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  volumeMounts?: VolumeMount[];
  [other: string]: unknown;
}

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface SecretVolumeSource {
  secretName?: string;
  defaultMode?: number;
  items?: KeyToPath[];
  optional?: boolean;
}

export interface ProjectedSource {
  secret?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  [other: string]: unknown;
}

export interface Volume {
  name: string;
  secret?: SecretVolumeSource;
  projected?: { sources?: ProjectedSource[]; defaultMode?: number };
  /** Other sources, some naming a Secret (VOLUME_SECRET_NAMES): read after the decoder checked them. */
  [other: string]: unknown;
}

/**
 * Volume sources other than `secret` and `projected` that name a Secret: the source's field and
 * the path inside it to the Secret's name. The kubelet hands that Secret to the volume's driver.
 */
export const VOLUME_SECRET_NAMES: readonly { source: string; path: readonly string[] }[] = [
  { source: "azureFile", path: ["secretName"] },
  { source: "cephfs", path: ["secretRef", "name"] },
  { source: "cinder", path: ["secretRef", "name"] },
  { source: "csi", path: ["nodePublishSecretRef", "name"] },
  { source: "flexVolume", path: ["secretRef", "name"] },
  { source: "iscsi", path: ["secretRef", "name"] },
  { source: "rbd", path: ["secretRef", "name"] },
  { source: "scaleIO", path: ["secretRef", "name"] },
  { source: "storageos", path: ["secretRef", "name"] },
];

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Volume[];
  /** Registry credentials: each names a Secret the kubelet uses to pull images. */
  imagePullSecrets?: { name?: string }[];
  [other: string]: unknown;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: PodSpec;
  [other: string]: unknown;
}

/** The three lists of containers, by their field names in the Pod spec. */
export const CONTAINER_FIELDS = ["initContainers", "containers", "ephemeralContainers"] as const;
export type ContainerField = (typeof CONTAINER_FIELDS)[number];
