// Shared admission cases: a pod, its submitter and the stores' key names, with the expected
// answer. Replayed by the unit suite (admit), the HTTPS suite (POST /mutate) and the offline
// command suite (bin/apolo-secrets-webhook mutate), and by the end-to-end suite where it applies.

import type { Scope } from "../../src/core/policy.js";

export const CASE_NAMESPACE = "jobs";
export const CASE_CLUSTER = "test-cluster";
export const PLATFORM_USER = "system:serviceaccount:platform:job-submitter";
export const PLATFORM_GROUP = "platform:submitters";

export type JsonObject = Record<string, unknown>;

export interface EnvVarOut {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

export interface PodOut {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: Array<{ name: string; env?: EnvVarOut[]; volumeMounts?: JsonObject[] }>;
    initContainers?: Array<{ name: string; env?: EnvVarOut[]; volumeMounts?: JsonObject[] }>;
    volumes?: JsonObject[];
  };
}

export type Expectation =
  | { allowed: true; patched: boolean; check?: (pod: PodOut) => void }
  | { allowed: false; code: 403 | 422; message: string | RegExp };

export interface AdmissionCase {
  name: string;
  pod: JsonObject;
  /** store name → key names, all in CASE_NAMESPACE */
  stores: Record<string, string[]>;
  /** The submitter; the platform's trusted account when absent. */
  user?: string;
  groups?: string[];
  scope?: Scope;
  expect: Expectation;
}

interface PodOptions {
  owner?: string | undefined;
  labels?: Record<string, string>;
  env?: Record<string, string>;
  volumes?: unknown[];
  containers?: JsonObject[];
  initContainers?: JsonObject[];
  extraVolumes?: JsonObject[];
}

/** A job pod the way the platform builds one: labels, one container, env and the files annotation. */
export function jobPod(options: PodOptions = {}): JsonObject {
  const owner = "owner" in options ? options.owner : "alice";
  const labels: Record<string, string> = {
    "platform.apolo.us/job": "job-0b5d6c1e",
    "platform.apolo.us/preset": "cpu-small",
    ...(owner === undefined ? {} : { "platform.apolo.us/user": owner }),
    ...options.labels,
  };
  const env = Object.entries(options.env ?? {}).map(([name, value]) => ({ name, value }));
  const containers = options.containers ?? [
    { name: "job-0b5d6c1e", image: "python:3.12", ...(env.length ? { env } : {}) },
  ];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "job-0b5d6c1e",
      namespace: CASE_NAMESPACE,
      labels,
      ...(options.volumes
        ? { annotations: { "platform.apolo.us/secret-volumes": JSON.stringify(options.volumes) } }
        : {}),
    },
    spec: {
      ...(options.initContainers ? { initContainers: options.initContainers } : {}),
      containers,
      ...(options.extraVolumes ? { volumes: options.extraVolumes } : {}),
      restartPolicy: "Never",
    },
  };
}

const ALICE = "user--alice--secrets";
const BOB = "user--bob--secrets";
const FORGED_BY_BOB =
  "'bob' may not submit a job for owner 'alice': only the owner or a trusted submitter may create pods labelled for it";

function expectEnvRef(pod: PodOut, container: number, name: string, store: string, key: string): void {
  const entry = pod.spec.containers[container]?.env?.find((e) => e.name === name);
  if (!entry) throw new Error(`env ${name} is gone`);
  if (entry.value !== undefined) throw new Error(`env ${name} still has a literal value`);
  const ref = entry.valueFrom?.secretKeyRef;
  if (ref?.name !== store || ref.key !== key)
    throw new Error(`env ${name} refers to ${JSON.stringify(ref)}, expected ${store}/${key}`);
}

function expectMount(mounts: JsonObject[] | undefined, mountPath: string, key: string): void {
  const mount = mounts?.find((m) => m.mountPath === mountPath);
  if (!mount) throw new Error(`no mount at ${mountPath}`);
  if (mount.subPath !== key || mount.readOnly !== true)
    throw new Error(`mount at ${mountPath} is ${JSON.stringify(mount)}`);
}

/**
 * One pod fragment per Pod field that names a Secret (the core's SECRET_NAME_FIELDS), valid for
 * the API server's validation, with the words a refusal uses for it. `create: false` marks fields
 * a pod cannot carry at creation (ephemeral containers arrive through a subresource update).
 */
export interface SecretFieldSample {
  path: string;
  where: string;
  create: boolean;
  spec: (secret: string, volume: string) => JsonObject;
}

const volumeSample = (
  source: string,
  field: string,
  body: (secret: string) => JsonObject,
  path = `${source}.${field}.name`,
): SecretFieldSample => ({
  path: `spec.volumes[].${path}`,
  where: `volume 'v' (${source}.${field})`,
  create: true,
  spec: (secret, volume) => ({ volumes: [{ name: volume, [source]: body(secret) }] }),
});

const containerSamples = (
  field: "initContainers" | "containers" | "ephemeralContainers",
  word: string,
  short: string,
) => [
  {
    path: `spec.${field}[].env[].valueFrom.secretKeyRef.name`,
    where: `env S of ${word} 'env-${short}'`,
    create: field !== "ephemeralContainers",
    spec: (secret: string) => ({
      [field]: [
        {
          name: `env-${short}`,
          image: "registry.invalid/x",
          env: [{ name: "S", valueFrom: { secretKeyRef: { name: secret, key: "k1" } } }],
        },
      ],
    }),
  },
  {
    path: `spec.${field}[].envFrom[].secretRef.name`,
    where: `envFrom of ${word} 'envfrom-${short}'`,
    create: field !== "ephemeralContainers",
    spec: (secret: string) => ({
      [field]: [
        { name: `envfrom-${short}`, image: "registry.invalid/x", envFrom: [{ secretRef: { name: secret } }] },
      ],
    }),
  },
];

// Addresses are loopback: nothing in the tests ever dials them (no node runs these pods).
export const SECRET_FIELD_SAMPLES: readonly SecretFieldSample[] = [
  ...containerSamples("initContainers", "init container", "init"),
  ...containerSamples("containers", "container", "main"),
  ...containerSamples("ephemeralContainers", "ephemeral container", "debug"),
  {
    path: "spec.imagePullSecrets[].name",
    where: "imagePullSecrets",
    create: true,
    spec: (secret) => ({ imagePullSecrets: [{ name: secret }] }),
  },
  {
    path: "spec.volumes[].secret.secretName",
    where: "volume 'v'",
    create: true,
    spec: (secret, volume) => ({ volumes: [{ name: volume, secret: { secretName: secret } }] }),
  },
  {
    path: "spec.volumes[].projected.sources[].secret.name",
    where: "projected volume 'v'",
    create: true,
    spec: (secret, volume) => ({
      volumes: [{ name: volume, projected: { sources: [{ secret: { name: secret } }] } }],
    }),
  },
  volumeSample(
    "azureFile",
    "secretName",
    (s) => ({ secretName: s, shareName: "share" }),
    "azureFile.secretName",
  ),
  volumeSample("cephfs", "secretRef", (s) => ({ monitors: ["127.0.0.1:6789"], secretRef: { name: s } })),
  volumeSample("cinder", "secretRef", (s) => ({ volumeID: "vol-1", secretRef: { name: s } })),
  volumeSample("csi", "nodePublishSecretRef", (s) => ({
    driver: "csi.example.com",
    nodePublishSecretRef: { name: s },
  })),
  volumeSample("flexVolume", "secretRef", (s) => ({ driver: "example.com/flex", secretRef: { name: s } })),
  volumeSample("iscsi", "secretRef", (s) => ({
    targetPortal: "127.0.0.1:3260",
    iqn: "iqn.2001-04.com.example:storage",
    lun: 0,
    secretRef: { name: s },
  })),
  volumeSample("rbd", "secretRef", (s) => ({
    monitors: ["127.0.0.1:6789"],
    image: "img",
    secretRef: { name: s },
  })),
  volumeSample("scaleIO", "secretRef", (s) => ({
    gateway: "https://127.0.0.1/api",
    system: "sys",
    volumeName: "vol",
    secretRef: { name: s },
  })),
  volumeSample("storageos", "secretRef", (s) => ({ volumeName: "vol", secretRef: { name: s } })),
];

/** A pod of `owner` carrying these samples, each naming `secret`; volumes named v, v1, v2, ... */
export function podWithSecretFields(
  owner: string | undefined,
  samples: readonly SecretFieldSample[],
  secret: string,
): JsonObject {
  const pod = jobPod({ owner });
  const spec = pod.spec as Record<string, unknown[]>;
  samples.forEach((sample, i) => {
    for (const [field, items] of Object.entries(sample.spec(secret, i === 0 ? "v" : `v${i}`))) {
      spec[field] = [...(spec[field] ?? []), ...(items as unknown[])];
    }
  });
  return pod;
}

const creatable = SECRET_FIELD_SAMPLES.filter((sample) => sample.create);

export const cases: AdmissionCase[] = [
  {
    name: "leaves a pod without references, owner or stores alone",
    pod: jobPod({ owner: undefined, env: { MODE: "train" } }),
    stores: {},
    expect: { allowed: true, patched: false },
  },
  {
    name: "resolves a secret:KEY env value to a secretKeyRef on the owner's store",
    pod: jobPod({ env: { MODE: "train", DB_PASSWORD: "secret:db_password", TOKEN: "secret:hf-token" } }),
    stores: { [ALICE]: ["db_password", "hf-token", "unused"] },
    expect: {
      allowed: true,
      patched: true,
      check: (pod) => {
        expectEnvRef(pod, 0, "DB_PASSWORD", ALICE, "db_password");
        expectEnvRef(pod, 0, "TOKEN", ALICE, "hf-token");
        const env = pod.spec.containers[0]?.env ?? [];
        if (env.map((e) => e.name).join() !== "MODE,DB_PASSWORD,TOKEN") throw new Error("env order changed");
        if (env[0]?.value !== "train") throw new Error("a plain env value changed");
      },
    },
  },
  {
    name: "accepts the owner and cluster forms of a reference to the owner's own secret",
    pod: jobPod({ env: { A: "secret:/alice/k1", B: `secret://${CASE_CLUSTER}/alice/k2` } }),
    stores: { [ALICE]: ["k1", "k2"] },
    expect: {
      allowed: true,
      patched: true,
      check: (pod) => {
        expectEnvRef(pod, 0, "A", ALICE, "k1");
        expectEnvRef(pod, 0, "B", ALICE, "k2");
      },
    },
  },
  {
    name: "accepts the older platform.neuromation.io/user owner label",
    pod: jobPod({
      owner: undefined,
      labels: { "platform.neuromation.io/user": "alice" },
      env: { A: "secret:k1" },
    }),
    stores: { [ALICE]: ["k1"] },
    expect: { allowed: true, patched: true, check: (pod) => expectEnvRef(pod, 0, "A", ALICE, "k1") },
  },
  {
    name: "resolves references of a hierarchical owner written with -- in the label",
    pod: jobPod({ owner: "org--alice", env: { A: "secret:k1", B: "secret:/org/alice/k2" } }),
    stores: { "user--org--alice--secrets": ["k1", "k2"] },
    user: "org/alice",
    expect: {
      allowed: true,
      patched: true,
      check: (pod) => {
        expectEnvRef(pod, 0, "A", "user--org--alice--secrets", "k1");
        expectEnvRef(pod, 0, "B", "user--org--alice--secrets", "k2");
      },
    },
  },
  {
    name: "mounts a file reference in the job CLI's syntax into every regular container",
    pod: jobPod({
      volumes: ["secret:gcp-key:/var/secrets/gcp.json"],
      initContainers: [{ name: "setup", image: "busybox" }],
      containers: [
        { name: "main", image: "python:3.12" },
        { name: "sidecar", image: "busybox", volumeMounts: [{ name: "data", mountPath: "/data" }] },
      ],
      extraVolumes: [{ name: "data", emptyDir: {} }],
    }),
    stores: { [ALICE]: ["gcp-key"] },
    expect: {
      allowed: true,
      patched: true,
      check: (pod) => {
        const volume = pod.spec.volumes?.find((v) => v.name === "apolo-secrets-alice");
        const source = volume?.secret as { secretName?: string; defaultMode?: number } | undefined;
        if (source?.secretName !== ALICE || source.defaultMode !== 256 || Object.keys(source).length !== 2) {
          throw new Error(`secret volume is ${JSON.stringify(volume)}`);
        }
        if (pod.spec.volumes?.length !== 2) throw new Error("expected the data volume and one secret volume");
        expectMount(pod.spec.containers[0]?.volumeMounts, "/var/secrets/gcp.json", "gcp-key");
        expectMount(pod.spec.containers[1]?.volumeMounts, "/var/secrets/gcp.json", "gcp-key");
        if (pod.spec.containers[1]?.volumeMounts?.length !== 2)
          throw new Error("the sidecar lost its own mount");
        if (pod.spec.initContainers?.[0]?.volumeMounts)
          throw new Error("an init container got a mount it did not ask for");
      },
    },
  },
  {
    name: "mounts object-form file references only into the named containers, init containers included",
    pod: jobPod({
      volumes: [
        { uri: "secret:ssh-key", mountPath: "/root/.ssh/id_ed25519", containers: ["setup"] },
        { uri: "secret:/alice/cfg", mountPath: "/etc/app/config.yaml", containers: ["main"] },
        "secret:cfg:/etc/shared/config.yaml",
      ],
      initContainers: [{ name: "setup", image: "busybox" }],
      containers: [{ name: "main", image: "python:3.12", env: [{ name: "X", value: "secret:cfg" }] }],
    }),
    stores: { [ALICE]: ["ssh-key", "cfg"] },
    expect: {
      allowed: true,
      patched: true,
      check: (pod) => {
        expectMount(pod.spec.initContainers?.[0]?.volumeMounts, "/root/.ssh/id_ed25519", "ssh-key");
        expectMount(pod.spec.containers[0]?.volumeMounts, "/etc/app/config.yaml", "cfg");
        expectMount(pod.spec.containers[0]?.volumeMounts, "/etc/shared/config.yaml", "cfg");
        if (pod.spec.volumes?.length !== 1) throw new Error("one store needs exactly one volume");
        expectEnvRef(pod, 0, "X", ALICE, "cfg");
      },
    },
  },
  {
    name: "refuses keys missing from the owner's store, all of them sorted in one message",
    pod: jobPod({
      env: { A: "secret:zeta", B: "secret:alpha", C: "secret:present" },
      volumes: ["secret:mid:/m/f"],
    }),
    stores: { [ALICE]: ["present"] },
    expect: { allowed: false, code: 422, message: "Missing secrets: 'alpha', 'mid', 'zeta'" },
  },
  {
    name: "refuses every reference when the owner has no store yet",
    pod: jobPod({ env: { A: "secret:k1" } }),
    stores: { [BOB]: ["k1"] },
    expect: { allowed: false, code: 422, message: "Missing secrets: 'k1'" },
  },
  {
    name: "refuses a reference to another owner's secret, naming both owners",
    pod: jobPod({ env: { A: "secret:/bob/k1" } }),
    stores: { [ALICE]: ["k1"], [BOB]: ["k1"] },
    expect: {
      allowed: false,
      code: 403,
      message:
        "Secret reference 'secret:/bob/k1' in env A of container 'job-0b5d6c1e' names a secret of 'bob', but this job belongs to 'alice': a job can only use its owner's secrets (write secret:KEY)",
    },
  },
  {
    name: "refuses a file reference to another owner's secret",
    pod: jobPod({ volumes: [`secret://${CASE_CLUSTER}/bob/k1:/f`] }),
    stores: { [BOB]: ["k1"] },
    expect: {
      allowed: false,
      code: 403,
      message: /names a secret of 'bob', but this job belongs to 'alice'/,
    },
  },
  {
    name: "refuses a raw secretKeyRef to another owner's store",
    pod: jobPod({
      containers: [
        {
          name: "main",
          image: "x",
          env: [{ name: "S", valueFrom: { secretKeyRef: { name: BOB, key: "k1" } } }],
        },
      ],
    }),
    stores: { [BOB]: ["k1"] },
    expect: {
      allowed: false,
      code: 403,
      message:
        "env S of container 'main' uses the secret store 'user--bob--secrets' of 'bob' directly, but this job belongs to 'alice': use secret:KEY references to your own secrets instead",
    },
  },
  {
    name: "refuses envFrom of another owner's store in an init container",
    pod: jobPod({ initContainers: [{ name: "init", image: "x", envFrom: [{ secretRef: { name: BOB } }] }] }),
    stores: {},
    expect: {
      allowed: false,
      code: 403,
      message: /envFrom of init container 'init' uses the secret store 'user--bob--secrets' of 'bob'/,
    },
  },
  {
    name: "refuses a secret volume and a projected source of another owner's store",
    pod: jobPod({
      extraVolumes: [
        { name: "v1", secret: { secretName: BOB } },
        {
          name: "v2",
          projected: {
            sources: [{ configMap: { name: "c" } }, { secret: { name: "project--acme--ml--secrets" } }],
          },
        },
      ],
    }),
    stores: {},
    expect: {
      allowed: false,
      code: 403,
      message:
        /volume 'v1' uses the secret store 'user--bob--secrets'.*projected volume 'v2' uses the secret store 'project--acme--ml--secrets' of 'acme\/ml'/,
    },
  },
  {
    name: "refuses a store reference in a pod without an owner",
    pod: jobPod({ owner: undefined, extraVolumes: [{ name: "v", secret: { secretName: ALICE } }] }),
    stores: {},
    expect: {
      allowed: false,
      code: 403,
      message:
        /volume 'v' uses the secret store 'user--alice--secrets' of 'alice' directly, but this pod has no owner/,
    },
  },
  {
    name: "allows a pod that already uses its owner's store (a reinvocation)",
    pod: jobPod({
      containers: [
        {
          name: "main",
          image: "x",
          env: [{ name: "S", valueFrom: { secretKeyRef: { name: ALICE, key: "k1" } } }],
        },
      ],
    }),
    stores: { [ALICE]: ["k1"] },
    expect: { allowed: true, patched: false },
  },
  {
    name: "leaves Secrets that are not stores alone",
    pod: jobPod({
      owner: undefined,
      containers: [{ name: "main", image: "x", envFrom: [{ secretRef: { name: "registry-creds" } }] }],
      extraVolumes: [{ name: "tls", secret: { secretName: "my-tls" } }],
    }),
    stores: {},
    expect: { allowed: true, patched: false },
  },
  {
    name: "refuses secret references in a pod without an owner label",
    pod: jobPod({ owner: undefined, env: { A: "secret:k1" } }),
    stores: { [ALICE]: ["k1"] },
    expect: {
      allowed: false,
      code: 403,
      message:
        /^This pod uses secret references \(env A of container 'job-0b5d6c1e'\) but has no owner: the label platform\.apolo\.us\/user/,
    },
  },
  {
    name: "refuses a pod whose two owner labels disagree",
    pod: jobPod({ labels: { "platform.neuromation.io/user": "bob" }, env: { A: "secret:k1" } }),
    stores: { [ALICE]: ["k1"], [BOB]: ["k1"] },
    expect: {
      allowed: false,
      code: 403,
      message:
        /platform\.apolo\.us\/user='alice' and platform\.neuromation\.io\/user='bob' name different owners/,
    },
  },
  {
    name: "refuses an owner label forged by another user",
    pod: jobPod({ env: { A: "secret:k1" } }),
    stores: { [ALICE]: ["k1"] },
    user: "bob",
    expect: { allowed: false, code: 403, message: /^'bob' may not submit a job for owner 'alice'/ },
  },
  {
    name: "allows owners to submit their own jobs",
    pod: jobPod({ env: { A: "secret:k1" } }),
    stores: { [ALICE]: ["k1"] },
    user: "alice",
    expect: { allowed: true, patched: true },
  },
  {
    name: "allows members of a trusted group to submit for any owner",
    pod: jobPod({ env: { A: "secret:k1" } }),
    stores: { [ALICE]: ["k1"] },
    user: "ci-bot",
    groups: [PLATFORM_GROUP],
    expect: { allowed: true, patched: true },
  },
  {
    name: "refuses a malformed reference, quoting it and the accepted forms",
    pod: jobPod({ env: { A: "secret:a/b" } }),
    stores: { [ALICE]: ["a"] },
    expect: {
      allowed: false,
      code: 422,
      message:
        "Invalid secret reference 'secret:a/b' in env A of container 'job-0b5d6c1e': a secret name cannot contain '/'; use secret:KEY, secret:/OWNER/KEY or secret://CLUSTER/OWNER/KEY",
    },
  },
  {
    name: "refuses a secret name that breaks the platform's rule",
    pod: jobPod({ env: { A: "secret:..hidden" } }),
    stores: {},
    expect: {
      allowed: false,
      code: 422,
      message: /Invalid secret reference 'secret:\.\.hidden'.*not starting with '\.\.'/,
    },
  },
  {
    name: "refuses a reference to another cluster",
    pod: jobPod({ env: { A: "secret://other-cluster/alice/k1" } }),
    stores: { [ALICE]: ["k1"] },
    expect: {
      allowed: false,
      code: 422,
      message: /names cluster 'other-cluster', but this is cluster 'test-cluster'/,
    },
  },
  {
    name: "refuses a file specification with a mode suffix",
    pod: jobPod({ volumes: ["secret:k1:/f:ro"] }),
    stores: { [ALICE]: ["k1"] },
    expect: { allowed: false, code: 422, message: /^Invalid secret file specification 'secret:k1:\/f:ro'/ },
  },
  {
    name: "refuses a relative mount path and one with ..",
    pod: jobPod({ volumes: ["secret:k1:relative/f", { uri: "secret:k1", mountPath: "/a/../etc/passwd" }] }),
    stores: { [ALICE]: ["k1"] },
    expect: {
      allowed: false,
      code: 422,
      message:
        /Invalid mount path 'relative\/f'.*absolute path.*Invalid mount path '\/a\/\.\.\/etc\/passwd'.*'\.\.'/,
    },
  },
  {
    name: "refuses two mounts at one path in a container",
    pod: jobPod({ volumes: ["secret:k1:/etc/f", "secret:k2:/etc/f"] }),
    stores: { [ALICE]: ["k1", "k2"] },
    expect: { allowed: false, code: 422, message: /^Two mounts at '\/etc\/f' in container 'job-0b5d6c1e'/ },
  },
  {
    name: "refuses a mount at a path the container already mounts",
    pod: jobPod({
      volumes: ["secret:k1:/data"],
      containers: [{ name: "main", image: "x", volumeMounts: [{ name: "data", mountPath: "/data" }] }],
      extraVolumes: [{ name: "data", emptyDir: {} }],
    }),
    stores: { [ALICE]: ["k1"] },
    expect: {
      allowed: false,
      code: 422,
      message: /Two mounts at '\/data' in container 'main' \(volume mount 'data'/,
    },
  },
  {
    name: "refuses a file reference for a container the pod does not have",
    pod: jobPod({ volumes: [{ uri: "secret:k1", mountPath: "/f", containers: ["nope"] }] }),
    stores: { [ALICE]: ["k1"] },
    expect: {
      allowed: false,
      code: 422,
      message: /names container 'nope', which this pod does not have \(its containers: 'job-0b5d6c1e'\)/,
    },
  },
  {
    name: "refuses an annotation that is not a JSON array",
    pod: {
      ...jobPod(),
      metadata: {
        name: "p",
        labels: { "platform.apolo.us/user": "alice" },
        annotations: { "platform.apolo.us/secret-volumes": "secret:k1:/f" },
      },
    },
    stores: { [ALICE]: ["k1"] },
    expect: {
      allowed: false,
      code: 422,
      message: /^Invalid annotation platform\.apolo\.us\/secret-volumes: it must be a JSON array/,
    },
  },
  {
    name: "lists every problem at once, forbidden ones first",
    pod: jobPod({ env: { A: "secret:/bob/k", B: "secret:bad/name", C: "secret:missing" } }),
    stores: { [ALICE]: [] },
    expect: {
      allowed: false,
      code: 403,
      message:
        /^Secret reference 'secret:\/bob\/k'.*; Invalid secret reference 'secret:bad\/name'.*; Missing secrets: 'missing'$/,
    },
  },
  {
    name: "resolves project references against the project's store",
    scope: "project",
    pod: jobPod({
      owner: undefined,
      labels: { "platform.apolo.us/org": "acme", "platform.apolo.us/project": "ml" },
      env: { A: "secret:k1", B: "secret:/ml/k2", C: `secret://${CASE_CLUSTER}/acme/ml/k1` },
      volumes: ["secret:k2:/etc/k2"],
    }),
    stores: { "project--acme--ml--secrets": ["k1", "k2"] },
    expect: {
      allowed: true,
      patched: true,
      check: (pod) => {
        expectEnvRef(pod, 0, "A", "project--acme--ml--secrets", "k1");
        expectEnvRef(pod, 0, "B", "project--acme--ml--secrets", "k2");
        expectEnvRef(pod, 0, "C", "project--acme--ml--secrets", "k1");
        expectMount(pod.spec.containers[0]?.volumeMounts, "/etc/k2", "k2");
      },
    },
  },
  {
    name: "refuses a project reference to another project",
    scope: "project",
    pod: jobPod({
      owner: undefined,
      labels: { "platform.apolo.us/org": "acme", "platform.apolo.us/project": "ml" },
      env: { A: "secret:/finance/k1" },
    }),
    stores: { "project--acme--finance--secrets": ["k1"] },
    expect: {
      allowed: false,
      code: 403,
      message: /names a secret of 'acme\/finance', but this job belongs to 'acme\/ml'/,
    },
  },
  {
    name: "refuses a project submitted by someone who is not a trusted submitter",
    scope: "project",
    pod: jobPod({
      owner: undefined,
      labels: { "platform.apolo.us/org": "acme", "platform.apolo.us/project": "ml" },
      env: { A: "secret:k1" },
    }),
    stores: { "project--acme--ml--secrets": ["k1"] },
    user: "alice",
    expect: { allowed: false, code: 403, message: /^'alice' may not submit a job for project 'acme\/ml'/ },
  },
  {
    name: "refuses bob's pod labelled for alice with the forged-owner 403 alone, for a key alice has",
    pod: jobPod({ env: { A: "secret:aws_key" } }),
    stores: { [ALICE]: ["aws_key"] },
    user: "bob",
    expect: { allowed: false, code: 403, message: FORGED_BY_BOB },
  },
  {
    name: "refuses bob's pod labelled for alice with the identical 403 for a key alice lacks",
    pod: jobPod({ env: { A: "secret:gcp_key" } }),
    stores: { [ALICE]: ["aws_key"] },
    user: "bob",
    expect: { allowed: false, code: 403, message: FORGED_BY_BOB },
  },
  {
    name: "refuses bob's pod labelled for alice with that 403 alone, whatever else the pod gets wrong",
    pod: jobPod({
      env: { A: "secret:aws_key", B: "secret:gcp_key", C: "secret:bad/name" },
      volumes: ["secret:ssh_key:/f", "secret:k:relative"],
    }),
    stores: {},
    user: "bob",
    expect: { allowed: false, code: 403, message: FORGED_BY_BOB },
  },
  ...creatable.map(
    (sample): AdmissionCase => ({
      name: `refuses ${sample.where} naming another owner's store`,
      pod: podWithSecretFields("alice", [sample], BOB),
      stores: { [BOB]: ["k1"] },
      expect: {
        allowed: false,
        code: 403,
        message: `${sample.where} uses the secret store '${BOB}' of 'bob' directly, but this job belongs to 'alice': use secret:KEY references to your own secrets instead`,
      },
    }),
  ),
  {
    name: "leaves non-store Secrets alone in every field that names a Secret",
    pod: podWithSecretFields(undefined, creatable, "registry-creds"),
    stores: {},
    expect: { allowed: true, patched: false },
  },
  {
    name: "allows the owner's own store in every field that names a Secret",
    pod: podWithSecretFields("alice", creatable, ALICE),
    stores: { [ALICE]: ["k1"] },
    expect: { allowed: true, patched: false },
  },
];
