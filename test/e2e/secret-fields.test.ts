// Every Pod field that can name a Secret is one the webhook checks: the API server's own Pod
// schema is compared with the core's covered list (so a new Kubernetes version cannot open a hole
// silently), and each covered field is tried through the real API server. Also: a submitter who
// may not act for an owner learns nothing about that owner's store.

import { type RequestOptions, request } from "node:https";
import { KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { SECRET_NAME_FIELDS } from "../../src/core/store-uses.js";
import { type JsonObject, podWithSecretFields, SECRET_FIELD_SAMPLES } from "../cases/cases.js";
import {
  api,
  createPod,
  e2e,
  freshNamespace,
  jobPod,
  podExists,
  putStore,
  readPod,
  refusal,
  storeName,
  type Who,
} from "./support.js";

// ---------------------------------------------------------------------------------------------
// The schema side: which properties reachable from PodSpec can name a Secret.

interface Schema {
  type?: string;
  description?: string;
  $ref?: string;
  allOf?: Schema[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  properties?: Record<string, Schema>;
}

interface Property {
  /** e.g. spec.volumes[].csi.nodePublishSecretRef ("[]" after a list). */
  path: string;
  /** The schema this property is declared in, and its name there: io.k8s.api.core.v1.CSIVolumeSource.nodePublishSecretRef */
  declared: string;
  /** Why it may name a Secret; empty when nothing suggests it. */
  signs: string[];
}

const POD_SPEC = "io.k8s.api.core.v1.PodSpec";

/**
 * Properties that look like Secret references but are not, each with the reason. Keyed by the
 * declaring schema and property, so the reason holds wherever the schema is used.
 */
const NOT_SECRET_NAMES: Record<string, string> = {
  "io.k8s.api.core.v1.CephFSVolumeSource.secretFile":
    "a file path on the node (the Ceph keyring), not the name of a Secret",
  "io.k8s.api.core.v1.PersistentVolumeClaimSpec.dataSource":
    "the API server refuses any core kind but PersistentVolumeClaim (validateDataSource)",
  "io.k8s.api.core.v1.PersistentVolumeClaimSpec.dataSourceRef":
    "the API server refuses any core kind but PersistentVolumeClaim (validateDataSourceRef)",
  "io.k8s.api.core.v1.ImageVolumeSource.reference":
    "an image reference; its description mentions the pull secrets, which are spec.imagePullSecrets",
  "io.k8s.api.core.v1.PodSecurityContext.fsGroupChangePolicy":
    "a policy word (OnRootMismatch, Always); its description mentions secret volumes",
};

function refName(schema: Schema | undefined): string | undefined {
  if (!schema) return undefined;
  if (schema.$ref) return schema.$ref.split("/").pop();
  for (const part of schema.allOf ?? []) {
    const name = refName(part);
    if (name) return name;
  }
  return undefined;
}

/**
 * Every property reachable from PodSpec, with the signs that it may name a Secret:
 * - its name mentions a secret (secretRef, secretName, nodePublishSecretRef, imagePullSecrets, ...);
 * - its schema is a Secret selector or source (SecretKeySelector, SecretEnvSource, ...);
 * - its schema is a generic object reference (LocalObjectReference, TypedObjectReference, ...),
 *   which can name an object of any kind, Secrets included;
 * - its description mentions a Secret and it can hold a name (a string, strings, or an object
 *   with a name).
 * Inside a property already found (a SecretKeySelector, say) only the first three apply: its
 * key, items and optional describe the same Secret without naming another.
 */
function podSpecProperties(schemas: Record<string, Schema>): Property[] {
  const found: Property[] = [];
  const holdsName = (target: Schema | undefined): boolean => {
    if (target?.type === "string") return true;
    const name = refName(target);
    return name !== undefined && schemas[name]?.properties?.name !== undefined;
  };
  const walk = (schemaName: string, path: string, stack: readonly string[], inReference: boolean) => {
    const schema = schemas[schemaName];
    if (!schema || stack.includes(schemaName)) return;
    for (const [prop, declared] of Object.entries(schema.properties ?? {})) {
      let at = `${path}.${prop}`;
      let target: Schema | undefined = declared;
      if (declared.type === "array") {
        target = declared.items;
        at += "[]";
      } else if (declared.type === "object" && typeof declared.additionalProperties === "object") {
        target = declared.additionalProperties;
        at += "{}";
      }
      const ref = refName(target);
      const signs: string[] = [];
      if (/secret/i.test(prop)) signs.push("name");
      if (ref && /Secret/.test(ref.split(".").pop() ?? "")) signs.push(`schema ${ref}`);
      if (ref && /ObjectReference$/.test(ref)) signs.push(`generic reference ${ref}`);
      if (!inReference && /secret/i.test(declared.description ?? "") && holdsName(target))
        signs.push("description");
      found.push({ path: at, declared: `${schemaName}.${prop}`, signs });
      if (ref) walk(ref, at, [...stack, schemaName], inReference || signs.length > 0);
    }
  };
  walk(POD_SPEC, "spec", [], false);
  return found;
}

/** A covered path names the Secret of this property: the property itself, or its `name` (or one string in it). */
function isCovered(path: string, covered: readonly string[]): boolean {
  return covered.some(
    (c) => c === path || (c.startsWith(`${path}.`) && !c.slice(path.length + 1).includes(".")),
  );
}

async function getJson(path: string): Promise<unknown> {
  const kc = new KubeConfig();
  kc.loadFromFile(e2e().adminKubeconfig);
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the admin kubeconfig names no server");
  const url = new URL(path, server);
  const options: RequestOptions = {
    hostname: url.hostname,
    port: url.port,
    path: url.pathname,
    headers: { accept: "application/json" },
  };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
        else resolve(JSON.parse(text));
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the API server's Pod schema", () => {
  let properties: Property[];
  beforeAll(async () => {
    const doc = (await getJson("/openapi/v3/api/v1")) as {
      components?: { schemas?: Record<string, Schema> };
    };
    const schemas = doc.components?.schemas ?? {};
    expect(schemas[POD_SPEC], "the OpenAPI document has no PodSpec").toBeDefined();
    properties = podSpecProperties(schemas);
  });

  it("names a Secret only in fields the webhook checks", () => {
    const uncovered = properties
      .filter((p) => p.signs.length > 0 && !isCovered(p.path, SECRET_NAME_FIELDS))
      .filter((p) => NOT_SECRET_NAMES[p.declared] === undefined)
      .map((p) => `${p.path} (${p.declared}: ${p.signs.join(", ")})`);
    expect(
      uncovered,
      `Pod fields that may name a Secret but are not in SECRET_NAME_FIELDS (src/core/store-uses.ts):\n  ${uncovered.join("\n  ")}\n` +
        "Check them in findStoreUses and the decoder, or list them in NOT_SECRET_NAMES with the reason.",
    ).toEqual([]);
  });

  it("has every field the webhook lists, so the list holds no typo or removed field", () => {
    const paths = new Set(properties.map((p) => p.path));
    const missing = SECRET_NAME_FIELDS.filter((path) => !paths.has(path));
    expect(missing, `covered paths absent from the Pod schema: ${missing.join(", ")}`).toEqual([]);
  });

  it("is read deeply enough for the check to mean something", () => {
    // A walker that stopped resolving references would find nothing and pass the check above.
    const flagged = new Set(properties.filter((p) => p.signs.length > 0).map((p) => p.path));
    for (const path of [
      "spec.imagePullSecrets[]",
      "spec.containers[].env[].valueFrom.secretKeyRef",
      "spec.ephemeralContainers[].envFrom[].secretRef",
      "spec.volumes[].csi.nodePublishSecretRef",
      "spec.volumes[].azureFile.secretName",
      "spec.volumes[].projected.sources[].secret",
    ]) {
      expect(flagged.has(path), path).toBe(true);
    }
    for (const key of Object.keys(NOT_SECRET_NAMES)) {
      expect(
        properties.some((p) => p.declared === key && p.signs.length > 0),
        `${key} is listed as not naming a Secret but is no longer flagged: drop it from NOT_SECRET_NAMES`,
      ).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Each covered field through the API server.

const creatable = SECRET_FIELD_SAMPLES.filter((s) => s.create);
const ephemeral = SECRET_FIELD_SAMPLES.filter((s) => !s.create);
const PREFIX = 'admission webhook "secrets.apolo.us" denied the request: ';
let ns: string;
let counter = 0;

beforeAll(async () => {
  ns = await freshNamespace("e2e-fields");
  await putStore(ns, "alice", ["aws_key", "k1"]);
  await putStore(ns, "bob", ["k1"]);
});

/** A shared-case pod made ready for this namespace under a fresh name. */
function inNamespace(pod: JsonObject): V1Pod {
  const ready = structuredClone(pod) as unknown as V1Pod;
  const name = `fields-${counter++}-${Date.now().toString(36)}`;
  ready.metadata = { ...ready.metadata, name, namespace: ns };
  ready.spec = { ...(ready.spec as NonNullable<V1Pod["spec"]>), automountServiceAccountToken: false };
  return ready;
}

/** Every string at a covered path ("[]" over list items) in a stored pod. */
function namesAt(pod: unknown, path: string): string[] {
  let values: unknown[] = [pod];
  for (const segment of path.split(".")) {
    const key = segment.endsWith("[]") ? segment.slice(0, -2) : segment;
    values = values.flatMap((v) => {
      const next = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined;
      if (next === undefined) return [];
      return segment.endsWith("[]") ? (Array.isArray(next) ? next : []) : [next];
    });
  }
  return values.filter((v): v is string => typeof v === "string");
}

function foreignStoreMessage(where: string, owner: string, store: string): string {
  return `${where} uses the secret store '${store}' of '${owner}' directly, but this job belongs to 'bob': use secret:KEY references to your own secrets instead`;
}

describe("each field that names a Secret, through the API server", () => {
  it.each(creatable.map((s) => [s.path, s] as const))(
    "refuses bob's pod naming alice's store in %s",
    async (_path, sample) => {
      const pod = inNamespace(podWithSecretFields("bob", [sample], storeName("alice")));
      const answer = await refusal(createPod("bob", ns, pod));
      expect(answer.code).toBe(403);
      expect(answer.message).toBe(PREFIX + foreignStoreMessage(sample.where, "alice", storeName("alice")));
      expect(await podExists(ns, pod.metadata?.name as string)).toBe(false);
    },
  );

  it.each(ephemeral.map((s) => [s.path, s] as const))(
    "refuses bob's ephemeral container naming alice's store in %s",
    async (_path, sample) => {
      const created = await createPod(
        "bob",
        ns,
        inNamespace(jobPod({ owner: "bob" }) as unknown as JsonObject),
      );
      const name = created.metadata?.name as string;
      const current = await readPod(ns, name);
      const added = sample.spec(storeName("alice"), "v").ephemeralContainers as NonNullable<
        NonNullable<V1Pod["spec"]>["ephemeralContainers"]
      >;
      const body = {
        ...current,
        spec: { ...current.spec, containers: current.spec?.containers ?? [], ephemeralContainers: added },
      };
      const answer = await refusal(
        api("bob").replaceNamespacedPodEphemeralcontainers({ name, namespace: ns, body }),
      );
      expect(answer.code).toBe(403);
      expect(answer.message).toBe(PREFIX + foreignStoreMessage(sample.where, "alice", storeName("alice")));
      expect((await readPod(ns, name)).spec?.ephemeralContainers ?? []).toEqual([]);
    },
  );

  it("leaves Secrets that are not stores alone in every field, and stores them as written", async () => {
    const pod = inNamespace(podWithSecretFields("bob", creatable, "registry-creds"));
    await createPod("bob", ns, pod);
    const stored = await readPod(ns, pod.metadata?.name as string);
    for (const sample of creatable)
      expect(namesAt(stored, sample.path), sample.path).toEqual(["registry-creds"]);
  });

  it("allows the owner's own store in every field", async () => {
    const pod = inNamespace(podWithSecretFields("bob", creatable, storeName("bob")));
    await createPod("bob", ns, pod);
    const stored = await readPod(ns, pod.metadata?.name as string);
    for (const sample of creatable)
      expect(namesAt(stored, sample.path), sample.path).toEqual([storeName("bob")]);
  });
});

describe("a submitter who may not act for the owner", () => {
  it("gets the identical 403 for a key the owner has and one she lacks, and no Missing secrets", async () => {
    const answers = [];
    for (const key of ["aws_key", "gcp_key"]) {
      const who: Who = "bob";
      answers.push(
        await refusal(createPod(who, ns, jobPod({ owner: "alice", env: { A: `secret:${key}` } }))),
      );
    }
    const [has, lacks] = answers;
    expect(has?.code).toBe(403);
    expect(lacks).toEqual(has);
    expect(has?.message).toBe(
      `${PREFIX}'${e2e().users.bob}' may not submit a job for owner 'alice': only the owner or a trusted submitter may create pods labelled for it`,
    );
    expect(lacks?.message).not.toContain("Missing secrets");
  });
});
