// Helpers for end-to-end tests: API clients per user, fresh served namespaces, stores, pods.
// Every assertion reads back from the API server.

import { randomBytes } from "node:crypto";
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  type V1Container,
  type V1Pod,
  type V1Volume,
} from "@kubernetes/client-node";
import { inject } from "vitest";
import { waitFor } from "../cluster/processes.js";

export type Who = "admin" | "platform" | "alice" | "bob";

const context = inject("e2e");
const clients = new Map<Who, CoreV1Api>();

export function e2e() {
  return context;
}

export function api(who: Who): CoreV1Api {
  const cached = clients.get(who);
  if (cached) return cached;
  const client = kubeConfig(who).makeApiClient(CoreV1Api);
  clients.set(who, client);
  return client;
}

/** A user's kubeconfig; `impersonate` acts as another user through the admin's (a controller's service account). */
export function kubeConfig(who: Who, impersonate?: string): KubeConfig {
  const kc = new KubeConfig();
  if (context.kubeconfigs && who !== "admin") {
    kc.loadFromFile(context.kubeconfigs[who] as string);
    return kc;
  }
  kc.loadFromFile(context.adminKubeconfig);
  // Any cluster: act as the user through impersonation (the admin needs the impersonate verb).
  const name = who === "admin" ? impersonate : context.users[who];
  if (name === undefined) return kc;
  const user = kc.getCurrentUser();
  kc.loadFromOptions({
    clusters: kc.clusters,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
    users: kc.users.map((u) => (u.name === user?.name ? { ...u, impersonateUser: name } : u)),
  });
  return kc;
}

/** A new namespace (names are never reused: nothing finishes terminating without a controller manager). */
export async function freshNamespace(
  prefix: string,
  options: { served?: boolean; name?: string } = {},
): Promise<string> {
  const name = options.name ?? `${prefix}-${randomBytes(3).toString("hex")}`;
  const labels = options.served === false ? {} : { [context.servedLabel]: "enabled" };
  try {
    await api("admin").createNamespace({ body: { metadata: { name, labels } } });
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
    await api("admin").patchNamespace({
      name,
      body: [{ op: "add", path: "/metadata/labels", value: labels }],
    });
  }
  // The ServiceAccount admission plugin needs the default account, which no controller made.
  await api("admin")
    .createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: "default" } } })
    .catch((error: unknown) => {
      if (!(error instanceof ApiException && error.code === 409)) throw error;
    });
  return name;
}

export function storeName(owner: string): string {
  return `user--${owner.replaceAll("/", "--")}--secrets`;
}

/** Creates or replaces an owner's store with these keys (values are throwaway test bytes). */
export async function putStore(namespace: string, owner: string, keys: string[]): Promise<void> {
  const name = storeName(owner);
  const body = {
    metadata: { name, namespace, labels: { "platform.neuromation.io/secret-api-org-name": "e2e" } },
    type: "Opaque",
    data: Object.fromEntries(keys.map((k) => [k, Buffer.from(`value-of-${k}`).toString("base64")])),
  };
  try {
    await api("admin").createNamespacedSecret({ namespace, body });
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
    await api("admin").replaceNamespacedSecret({ name, namespace, body });
  }
}

let podCounter = 0;

export interface JobPodOptions {
  owner?: string;
  env?: Record<string, string>;
  files?: unknown[];
  name?: string;
  containers?: V1Container[];
  volumes?: V1Volume[];
}

/** A job pod shaped the way the platform submits one. */
export function jobPod(options: JobPodOptions): V1Pod {
  const name = options.name ?? `job-${Date.now().toString(36)}-${podCounter++}`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      labels: {
        "platform.apolo.us/job": name,
        ...(options.owner ? { "platform.apolo.us/user": options.owner } : {}),
      },
      ...(options.files
        ? { annotations: { "platform.apolo.us/secret-volumes": JSON.stringify(options.files) } }
        : {}),
    },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      containers: options.containers ?? [
        {
          name: "main",
          image: "registry.invalid/job:latest",
          env: Object.entries(options.env ?? {}).map(([n, value]) => ({ name: n, value })),
        },
      ],
      ...(options.volumes ? { volumes: options.volumes } : {}),
    },
  };
}

export async function createPod(
  who: Who,
  namespace: string,
  pod: V1Pod,
  options: { dryRun?: boolean } = {},
): Promise<V1Pod> {
  return api(who).createNamespacedPod({ namespace, body: pod, ...(options.dryRun ? { dryRun: "All" } : {}) });
}

export async function readPod(namespace: string, name: string): Promise<V1Pod> {
  return api("admin").readNamespacedPod({ name, namespace });
}

export interface Refusal {
  code: number;
  message: string;
}

/** Runs a call that must fail; returns the API server's status code and message. */
export async function refusal(call: Promise<unknown>): Promise<Refusal> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException) {
      const body = typeof error.body === "string" ? safeJson(error.body) : error.body;
      const message = (body as { message?: string } | undefined)?.message ?? String(error.body);
      return { code: error.code, message };
    }
    throw error;
  }
  throw new Error("expected the API server to refuse, but it accepted");
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/**
 * Creates alice-style job pods until the webhook admits one (it may be starting or newly
 * registered), then returns the stored pod's first env var's secretKeyRef.
 */
export async function admittedSecretRef(namespace: string, owner: string, key: string, what: string) {
  const created = await waitFor(
    what,
    async () =>
      createPod("platform", namespace, jobPod({ owner, env: { A: `secret:${key}` } })).catch(() => undefined),
    30_000,
    300,
  );
  const stored = await readPod(namespace, created.metadata?.name as string);
  return stored.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef;
}

export async function podExists(namespace: string, name: string): Promise<boolean> {
  try {
    await readPod(namespace, name);
    return true;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return false;
    throw error;
  }
}

export { metricValue } from "../support/metrics.js";
