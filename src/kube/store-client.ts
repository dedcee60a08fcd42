// The little the store cache needs of the Kubernetes API, as an interface: list a page, watch,
// read one Secret's metadata. The cache's unit tests pass an in-memory double of it; the server
// passes `storeClientOf(kubeClient)`, which turns each call into one request.

import { type KubeClient, KubeError, type WatchEvent } from "./api-client.js";
import { type Secret, type SecretList, secretPath, secretsPath } from "./secrets.js";

export interface ListQuery {
  labelSelector: string;
  /** Only the Secret of this name (a field selector, escaped here). */
  name?: string;
  limit?: number;
  continue?: string;
}

export interface WatchQuery {
  labelSelector: string;
  resourceVersion: string;
  /** The server ends the watch after this long (the caller resumes from the last version). */
  timeoutSeconds: number;
}

export interface StoreClient {
  /** One page of the Secrets of `namespace` ("" for every namespace) matching the query. */
  list(namespace: string, query: ListQuery, timeoutMs: number): Promise<SecretList>;
  /** Calls onEvent per event; resolves when the server ends the watch, rejects on errors or abort. */
  watch(
    namespace: string,
    query: WatchQuery,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** One Secret's metadata only (never its values); undefined when it does not exist. */
  get(namespace: string, name: string, timeoutMs: number): Promise<Secret | undefined>;
}

/** What a KubeClient must offer to serve the store cache. */
export type StoreRequests = Pick<KubeClient, "request" | "watch">;

// Only the metadata of a Secret (no data): enough to tell "exists, but unlabelled" on a miss.
const METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

/** A field-selector value: `\`, `,` and `=` are escaped with a backslash. */
export function fieldValue(text: string): string {
  let out = "";
  for (const ch of text) out += ch === "\\" || ch === "," || ch === "=" ? `\\${ch}` : ch;
  return out;
}

export function storeClientOf(api: StoreRequests): StoreClient {
  return {
    list: (namespace, query, timeoutMs) =>
      api.request<SecretList>("GET", secretsPath(namespace), {
        query: {
          labelSelector: query.labelSelector,
          fieldSelector: query.name === undefined ? undefined : `metadata.name=${fieldValue(query.name)}`,
          limit: query.limit,
          continue: query.continue,
        },
        timeoutMs,
      }),
    watch: (namespace, query, onEvent, signal) =>
      api.watch(secretsPath(namespace), { ...query, allowWatchBookmarks: true }, onEvent, signal),
    get: async (namespace, name, timeoutMs) => {
      try {
        return await api.request<Secret>("GET", secretPath(namespace, name), {
          accept: METADATA_ONLY,
          timeoutMs,
        });
      } catch (error) {
        if (error instanceof KubeError && error.status === 404) return undefined;
        throw error;
      }
    },
  };
}
