// Writes owners' stores: the same Secrets the webhook reads (user--{owner}--secrets), labelled so
// its cache can select them. Every change is read-modify-write with the resourceVersion: a
// conflict (another change landed first) is retried on fresh data, never overwritten blindly.

import { userStoreName } from "../core/owner.js";
import { type KubeClient, KubeError } from "../kube/api-client.js";

export const STORE_LABELS = {
  "app.kubernetes.io/managed-by": "apolo-secrets-api",
  "platform.apolo.us/secrets-store": "true",
};
const MAX_ATTEMPTS = 20;

/** The store would exceed what one Kubernetes Secret can hold (1 MiB of data in all). */
export class StoreFullError extends Error {}

interface SecretObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  type?: string;
  data?: Record<string, string>;
}

export class StoreWriter {
  readonly #api: KubeClient;
  readonly #namespace: string;

  constructor(api: KubeClient, namespace: string) {
    this.#api = api;
    this.#namespace = namespace;
  }

  #path(storeId: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.#namespace)}/secrets/${encodeURIComponent(userStoreName(storeId))}`;
  }

  async #read(storeId: string): Promise<SecretObject | undefined> {
    try {
      return await this.#api.request<SecretObject>("GET", this.#path(storeId));
    } catch (error) {
      if (error instanceof KubeError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Key names of the owner's store (empty when it has none yet). */
  async list(storeId: string): Promise<string[]> {
    const secret = await this.#read(storeId);
    return Object.keys(secret?.data ?? {}).sort();
  }

  /** Creates or overwrites one key; creates the store on the first add. */
  async put(storeId: string, key: string, valueBase64: string): Promise<void> {
    await this.#change(storeId, (data) => {
      data[key] = valueBase64;
      return true;
    });
  }

  /** Removes one key; false when the owner has no such key. */
  async remove(storeId: string, key: string): Promise<boolean> {
    return this.#change(storeId, (data) => {
      if (!(key in data)) return false;
      delete data[key];
      return true;
    });
  }

  async #change(storeId: string, edit: (data: Record<string, string>) => boolean): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.#read(storeId);
      const data = { ...(current?.data ?? {}) };
      if (!edit(data)) return false;
      try {
        if (current) {
          const body: SecretObject = {
            ...current,
            metadata: { ...current.metadata, labels: { ...current.metadata.labels, ...STORE_LABELS } },
            data,
          };
          await this.#api.request("PUT", this.#path(storeId), { body });
        } else {
          const body: SecretObject = {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: userStoreName(storeId), namespace: this.#namespace, labels: STORE_LABELS },
            type: "Opaque",
            data,
          };
          await this.#api.request(
            "POST",
            `/api/v1/namespaces/${encodeURIComponent(this.#namespace)}/secrets`,
            { body },
          );
        }
        return true;
      } catch (error) {
        // A Secret holds at most 1 MiB of data, all keys together; the API server says so with 422.
        if (
          error instanceof KubeError &&
          error.status === 422 &&
          /at most \d+ bytes|too long/i.test(error.message)
        ) {
          throw new StoreFullError(
            "your secrets together would exceed 1 MiB, the most one store can hold: remove some first",
          );
        }
        // 409: someone else changed (or created) the store since we read it; read again.
        if (error instanceof KubeError && error.status === 409) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (attempt + 1)));
          continue;
        }
        throw error;
      }
    }
    throw new Error(`the store of '${storeId}' kept changing under ${MAX_ATTEMPTS} attempts; try again`);
  }
}
