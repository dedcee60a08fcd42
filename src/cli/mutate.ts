// `mutate`: the webhook's decision for one pod, offline, from files. Operators use it to answer
// "why was my job refused?". Exit 0 allowed, 1 refused, 2 bad input.

import { readFile } from "node:fs/promises";
import fastJsonPatch from "fast-json-patch";
import { parseAllDocuments } from "yaml";
import { decodePod, decodeWorkload } from "../admission/decode.js";
import type { AdmissionRequest, Pod, Workload } from "../admission/types.js";
import { type MutateConfig, policyOf } from "../config.js";
import { admit } from "../core/admit.js";
import { listSome, quoted } from "../core/limits.js";
import { MemorySecretIndex } from "../core/secret-index.js";

export interface CliIo {
  readStdin(): Promise<string>;
  stdout(text: string): void;
  stderr(text: string): void;
}

class InputError extends Error {}

async function readInput(file: string, io: CliIo, what: string): Promise<string> {
  if (file === "-") return io.readStdin();
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read the ${what} file '${file}'${code ? ` (${code})` : ""}`);
  }
}

/** YAML is a superset of JSON, so one parser reads both; several documents are allowed. */
function parseDocuments(text: string, what: string): unknown[] {
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [documents];
  const values: unknown[] = [];
  for (const document of list) {
    if (document.errors.length > 0) {
      throw new InputError(
        `the ${what} file is not valid YAML or JSON: ${document.errors[0]?.message.split("\n")[0]}`,
      );
    }
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) values.push(value);
  }
  return values;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Store name → the namespaces the secrets file has it in (names only, for the namespace hint). */
type StorePlaces = Map<string, Set<string>>;

function readSecrets(values: unknown[], defaultNamespace: string, index: MemorySecretIndex): StorePlaces {
  const places: StorePlaces = new Map();
  const items = values.flatMap((value) =>
    isObject(value) && value.kind === "List" && Array.isArray(value.items) ? value.items : [value],
  );
  items.forEach((item: unknown, i) => {
    if (!isObject(item) || (item.kind !== undefined && item.kind !== "Secret")) {
      throw new InputError(
        `the secrets file's object ${i} is not a Secret (kind: ${isObject(item) ? String(item.kind) : typeof item})`,
      );
    }
    const metadata = isObject(item.metadata) ? item.metadata : {};
    if (typeof metadata.name !== "string" || metadata.name === "") {
      throw new InputError(`the secrets file's object ${i} has no metadata.name`);
    }
    const namespace =
      typeof metadata.namespace === "string" && metadata.namespace !== ""
        ? metadata.namespace
        : defaultNamespace;
    // Only key names are read: values never leave the file.
    const keys = new Set<string>();
    for (const field of ["data", "stringData"]) {
      const data = item[field];
      if (isObject(data)) for (const key of Object.keys(data)) keys.add(key);
    }
    index.set(namespace, metadata.name, keys);
    const namespaces = places.get(metadata.name) ?? new Set<string>();
    places.set(metadata.name, namespaces.add(namespace));
  });
  return places;
}

const HINT_NAMESPACES = 5;

/**
 * On a Missing secrets refusal: the namespace the stores were looked up in and why, when the
 * secrets file has the owner's store in other namespaces (a pod file without metadata.namespace
 * is the usual cause). Namespace names only.
 */
function namespaceHint(
  missingIn: { namespace: string; store: string },
  places: StorePlaces,
  from: string,
): string | undefined {
  const others = [...(places.get(missingIn.store) ?? [])].filter((ns) => ns !== missingIn.namespace).sort();
  if (others.length === 0) return undefined;
  // Names from the input files: clipped and at most HINT_NAMESPACES of them.
  const shown = listSome(others, quoted, HINT_NAMESPACES);
  return `hint: stores were looked up in namespace ${quoted(missingIn.namespace)} (${from}); the secrets file has ${quoted(missingIn.store)} in namespace ${shown}: give the job's namespace with --namespace or the pod's metadata.namespace\n`;
}

/** Which namespace's stores are used, and why: --namespace, else the pod's, else "default". */
function namespaceOf(config: MutateConfig, own: string | undefined): { namespace: string; from: string } {
  if (config.namespace !== undefined) return { namespace: config.namespace, from: "--namespace" };
  if (own !== undefined) return { namespace: own, from: "the pod's metadata.namespace" };
  return { namespace: "default", from: "the pod has no metadata.namespace and --namespace is not given" };
}

/** The one object of the pod file: a Pod, or a workload whose pod template the webhook checks. */
function readObject(
  documents: unknown[],
): { pod: Pod } | { workload: Workload; namespace: string | undefined } {
  if (documents.length !== 1)
    throw new InputError(
      `the pod file must hold exactly one Pod or workload, found ${documents.length} objects`,
    );
  const value = documents[0];
  const workload = decodeWorkload(value);
  if (workload !== undefined) {
    if ("error" in workload) throw new InputError(`the workload is malformed: ${workload.error}`);
    const metadata = isObject(value) && isObject(value.metadata) ? value.metadata : {};
    const namespace = typeof metadata.namespace === "string" ? metadata.namespace : undefined;
    return { workload, namespace };
  }
  if (isObject(value) && value.kind !== undefined && value.kind !== "Pod") {
    throw new InputError(
      `the pod file holds a ${String(value.kind)}, not a Pod or a Job, CronJob, Deployment, ReplicaSet, StatefulSet or DaemonSet`,
    );
  }
  const pod = decodePod(value);
  if ("error" in pod) throw new InputError(`the pod is malformed: ${pod.error}`);
  return { pod };
}

function requestFor(object: ReturnType<typeof readObject>, namespace: string, config: MutateConfig) {
  const pod = "pod" in object ? object.pod : undefined;
  const workload = "workload" in object ? object.workload : undefined;
  const request: AdmissionRequest = {
    uid: "offline",
    kind: { group: "", version: "v1", kind: workload?.kind ?? "Pod" },
    resource: { group: "", version: "v1", resource: workload ? "" : "pods" },
    subResource: "",
    name: workload?.name ?? pod?.metadata.name ?? "",
    namespace,
    operation: "CREATE",
    userInfo: { username: config.user ?? "", groups: config.groups },
    object: pod,
    ...(workload ? { workload } : {}),
    dryRun: true,
  };
  return request;
}

export async function runMutate(config: MutateConfig, io: CliIo): Promise<number> {
  try {
    const documents = parseDocuments(await readInput(config.podFile, io, "pod"), "pod");
    const original: unknown = structuredClone(documents[0]);
    const object = readObject(documents);
    const own = "pod" in object ? object.pod.metadata.namespace : object.namespace;
    const { namespace, from } = namespaceOf(config, own);

    const index = new MemorySecretIndex();
    const places = readSecrets(
      parseDocuments(await readInput(config.secretsFile, io, "secrets"), "secrets"),
      namespace,
      index,
    );

    const request = requestFor(object, namespace, config);
    const outcome = admit(request, policyOf(config), index, { checkSubmitter: config.user !== undefined });
    // As kubectl prints the webhook's warnings.
    for (const warning of outcome.warnings) io.stderr(`Warning: ${warning}\n`);
    if (!outcome.verdict.allowed) {
      io.stderr(`refused (${outcome.verdict.code}): ${outcome.verdict.message}\n`);
      const hint = outcome.missingIn ? namespaceHint(outcome.missingIn, places, from) : undefined;
      if (hint) io.stderr(hint);
      return 1;
    }
    if (request.workload) {
      // The webhook validates templates and never patches them: say so, print the object unchanged.
      io.stderr(
        `allowed: the ${request.workload.kind}'s pod template passes every check; it is not changed (its pods are resolved when they are created)\n`,
      );
    }
    if (config.printPatch) {
      io.stdout(`${JSON.stringify(outcome.verdict.patch, null, 2)}\n`);
    } else {
      const mutated = fastJsonPatch.applyPatch(
        original,
        fastJsonPatch.deepClone(outcome.verdict.patch),
        true,
        false,
      ).newDocument;
      io.stdout(`${JSON.stringify(mutated, null, 2)}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof InputError) {
      io.stderr(`error: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
