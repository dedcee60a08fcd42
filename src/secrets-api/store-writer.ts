// Writes stores: the same Secrets the webhook reads (user--{owner}--secrets, or
// project--{org}--{project}--secrets in the project scope), labelled so its cache can select them. Every change is read-modify-write with the resourceVersion: a
// conflict (another change landed first) is retried on fresh data, never overwritten blindly.
// Key names are users' text: they live in a Map while edited ("__proto__" or "hasOwnProperty"
// are names like any other, never object properties).

import { type KubeClient, KubeError } from "../kube/api-client.js";
import { type Secret, secretPath, secretsPath } from "../kube/secrets.js";

export const STORE_LABELS = {
  "app.kubernetes.io/managed-by": "apolo-secrets-api",
  "platform.apolo.us/secrets-store": "true",
};
const MAX_ATTEMPTS = 20;

/** What the writer needs of the Kubernetes client (tests give it a small double). */
export type StoreWriterClient = Pick<KubeClient, "request">;

/** The store would exceed what one Kubernetes Secret can hold (1 MiB of data in all). */
export class StoreFullError extends Error {}

export class StoreWriter {
  readonly #api: StoreWriterClient;
  readonly #namespace: string;

  constructor(api: StoreWriterClient, namespace: string) {
    this.#api = api;
    this.#namespace = namespace;
  }

  #path(store: string): string {
    return secretPath(this.#namespace, store);
  }

  async #read(store: string): Promise<Secret | undefined> {
    try {
      return await this.#api.request<Secret>("GET", this.#path(store));
    } catch (error) {
      if (error instanceof KubeError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Key names of a store, by its Secret's name (empty when it does not exist yet). */
  async list(store: string): Promise<string[]> {
    return [...dataOf(await this.#read(store)).keys()].sort();
  }

  /** Creates or overwrites one key; creates the store on the first add. */
  async put(store: string, key: string, valueBase64: string): Promise<void> {
    await this.#change(store, (data) => {
      data.set(key, valueBase64);
      return true;
    });
  }

  /** Removes one key; false when the store has no such key. */
  async remove(store: string, key: string): Promise<boolean> {
    return this.#change(store, (data) => data.delete(key));
  }

  async #change(store: string, edit: (data: Map<string, string>) => boolean): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.#read(store);
      const edited = dataOf(current);
      if (!edit(edited)) return false;
      // Object.fromEntries defines each key as an own property, "__proto__" included.
      const data: Record<string, string> = Object.fromEntries(edited);
      try {
        if (current) {
          const body: Secret = {
            ...current,
            metadata: { ...current.metadata, labels: { ...current.metadata?.labels, ...STORE_LABELS } },
            data,
          };
          await this.#api.request("PUT", this.#path(store), { body });
        } else {
          const body: Secret = {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: store, namespace: this.#namespace, labels: STORE_LABELS },
            type: "Opaque",
            data,
          };
          await this.#api.request("POST", secretsPath(this.#namespace), { body });
        }
        return true;
      } catch (error) {
        // A Secret holds at most 1 MiB of data, all keys together; the API server says so with 422.
        if (error instanceof KubeError && error.status === 422 && isStoreFullMessage(error.message)) {
          throw new StoreFullError("the store would exceed 1 MiB, the most one Secret can hold");
        }
        // 409: someone else changed (or created) the store since we read it; read again.
        if (error instanceof KubeError && error.status === 409) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (attempt + 1)));
          continue;
        }
        throw error;
      }
    }
    throw new Error(`the store '${store}' kept changing under ${MAX_ATTEMPTS} attempts; try again`);
  }
}

/** The own entries of a Secret's data (JSON.parse makes every key, "__proto__" too, an own property). */
function dataOf(secret: Secret | undefined): Map<string, string> {
  return new Map(Object.entries(secret?.data ?? {}));
}

/**
 * Whether an API server refusal (422) says the Secret's data is over its size limit: the message
 * contains "too long" or "at most N bytes", in any case. One pass over the message, no regex.
 */
export function isStoreFullMessage(message: string): boolean {
  const text = message.toLowerCase();
  if (text.includes("too long")) return true;
  const lead = "at most ";
  for (let at = text.indexOf(lead); at !== -1; at = text.indexOf(lead, at + lead.length)) {
    let end = at + lead.length;
    while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
    if (end > at + lead.length && text.startsWith(" bytes", end)) return true;
  }
  return false;
}
