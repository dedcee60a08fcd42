// Watches store Secrets and keeps only their key names. An informer would keep whole objects
// (values included), so this lists and watches by hand and projects every object to its key
// names as it arrives. A miss can be checked with one bounded live GET.

import { storeOwner } from "../core/owner.js";
import { MemorySecretIndex, type SecretIndex } from "../core/secret-index.js";
import { type KubeClient, KubeError, type WatchEvent } from "./api-client.js";

/** The parts of a Secret the cache reads. */
interface SecretObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

interface SecretList {
  items: SecretObject[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export interface StoreCacheOptions {
  /** Namespaces to watch; empty watches all namespaces (needs cluster-wide list/watch). */
  namespaces: readonly string[];
  labelSelector: string;
  lookupTimeoutMs: number;
  /** Called with short, value-free descriptions of what happened. */
  onEvent?: (event: StoreCacheEvent) => void;
}

export type StoreCacheEvent =
  | { kind: "synced"; scope: string; stores: number }
  | { kind: "watch-error"; scope: string; error: string; retryInMs: number }
  | { kind: "relist"; scope: string; reason: string };

export type LookupResult = "found" | "absent" | "error" | "timeout";

// Each watch is ended by the server after this long and resumed from the last resourceVersion,
// so a connection cut silently (no FIN) is noticed within a minute.
const WATCH_TIMEOUT_SECONDS = 50;
const LIST_PAGE_SIZE = 100;
const MAX_BACKOFF_MS = 30_000;

class Gone extends Error {}

function keyNames(secret: SecretObject): string[] {
  return Object.keys(secret.data ?? {});
}

export class StoreCache implements SecretIndex {
  readonly #index = new MemorySecretIndex();
  readonly #api: KubeClient;
  readonly #options: StoreCacheOptions;
  readonly #synced = new Set<string>();
  readonly #lookups = new Map<string, Promise<LookupResult>>();
  readonly #aborts = new Set<AbortController>();
  #stopped = false;
  #wake: (() => void) | undefined;

  constructor(api: KubeClient, options: StoreCacheOptions) {
    this.#api = api;
    this.#options = options;
  }

  /** Starts one list-and-watch loop per namespace (or one for all); returns at once. */
  start(): void {
    const scopes = this.#options.namespaces.length === 0 ? [""] : this.#options.namespaces;
    for (const scope of scopes) void this.#run(scope);
  }

  stop(): void {
    this.#stopped = true;
    for (const abort of this.#aborts) abort.abort();
    this.#wake?.();
  }

  get synced(): boolean {
    const scopes = this.#options.namespaces.length === 0 ? 1 : this.#options.namespaces.length;
    return this.#synced.size >= scopes;
  }

  get storeCount(): number {
    return this.#index.storeCount;
  }

  get keyCount(): number {
    return this.#index.keyCount;
  }

  keysOf(namespace: string, store: string): ReadonlySet<string> | undefined {
    return this.#index.keysOf(namespace, store);
  }

  /** One live GET of a single store, bounded by lookupTimeoutMs; concurrent asks share it. */
  refresh(namespace: string, store: string): Promise<LookupResult> {
    const id = `${namespace}/${store}`;
    const pending = this.#lookups.get(id);
    if (pending) return pending;
    const lookup = this.#lookup(namespace, store).finally(() => this.#lookups.delete(id));
    this.#lookups.set(id, lookup);
    return lookup;
  }

  async #lookup(namespace: string, store: string): Promise<LookupResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#options.lookupTimeoutMs);
    });
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(store)}`;
    const read = this.#api
      .request<SecretObject>("GET", path, { timeoutMs: this.#options.lookupTimeoutMs })
      .then(
        (secret): LookupResult => {
          this.#index.set(namespace, store, keyNames(secret));
          return "found";
        },
        (error: unknown): LookupResult => {
          if (error instanceof KubeError && error.status === 404) {
            this.#index.delete(namespace, store);
            return "absent";
          }
          return "error";
        },
      );
    try {
      return await Promise.race([read, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #put(secret: SecretObject, fallbackNamespace: string): void {
    const name = secret.metadata?.name;
    const namespace = secret.metadata?.namespace ?? fallbackNamespace;
    if (!name || storeOwner(name) === undefined) return;
    this.#index.set(namespace, name, keyNames(secret));
  }

  async #run(scope: string): Promise<void> {
    let backoffMs = 500;
    let resourceVersion: string | undefined;
    while (!this.#stopped) {
      try {
        if (resourceVersion === undefined) resourceVersion = await this.#list(scope);
        resourceVersion = await this.#watchFrom(scope, resourceVersion);
        backoffMs = 500;
      } catch (error) {
        if (this.#stopped) return;
        if (error instanceof Gone) {
          this.#options.onEvent?.({
            kind: "relist",
            scope: scope || "*",
            reason: "resourceVersion expired (410)",
          });
          resourceVersion = undefined;
          continue;
        }
        const message = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
        this.#options.onEvent?.({
          kind: "watch-error",
          scope: scope || "*",
          error: message,
          retryInMs: backoffMs,
        });
        await this.#sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        // After an error the watch may have missed events: start over with a fresh list.
        resourceVersion = undefined;
      }
    }
  }

  /** Lists the scope page by page, projecting as it goes, then swaps the result in at once. */
  async #list(scope: string): Promise<string> {
    const found: Array<[string, string, string[]]> = [];
    let next: string | undefined;
    let resourceVersion = "";
    const path = scope === "" ? "/api/v1/secrets" : `/api/v1/namespaces/${encodeURIComponent(scope)}/secrets`;
    do {
      const page = await this.#api.request<SecretList>("GET", path, {
        query: { labelSelector: this.#options.labelSelector, limit: LIST_PAGE_SIZE, continue: next },
        timeoutMs: 60_000,
      });
      for (const secret of page.items) {
        const name = secret.metadata?.name;
        if (name && storeOwner(name) !== undefined)
          found.push([secret.metadata?.namespace ?? scope, name, keyNames(secret)]);
      }
      next = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (next);
    if (scope === "") this.#index.clear();
    else this.#index.clearNamespace(scope);
    for (const [namespace, name, keys] of found) this.#index.set(namespace, name, keys);
    this.#synced.add(scope);
    this.#options.onEvent?.({ kind: "synced", scope: scope || "*", stores: found.length });
    return resourceVersion;
  }

  /** Watches until the server ends the watch; returns the last resourceVersion seen. */
  async #watchFrom(scope: string, resourceVersion: string): Promise<string> {
    const path = scope === "" ? "/api/v1/secrets" : `/api/v1/namespaces/${encodeURIComponent(scope)}/secrets`;
    let last = resourceVersion;
    let gone = false;
    const abort = new AbortController();
    this.#aborts.add(abort);
    try {
      await this.#api.watch(
        path,
        {
          resourceVersion,
          allowWatchBookmarks: true,
          labelSelector: this.#options.labelSelector,
          timeoutSeconds: WATCH_TIMEOUT_SECONDS,
        },
        (event: WatchEvent) => {
          if (event.type === "ERROR") {
            if ((event.object as { code?: number }).code === 410) gone = true;
            return;
          }
          const secret = event.object as SecretObject;
          const version = secret.metadata?.resourceVersion;
          if (version) last = version;
          if (event.type === "ADDED" || event.type === "MODIFIED") this.#put(secret, scope);
          else if (event.type === "DELETED") {
            const name = secret.metadata?.name;
            if (name) this.#index.delete(secret.metadata?.namespace ?? scope, name);
          }
        },
        abort.signal,
      );
    } finally {
      this.#aborts.delete(abort);
    }
    if (gone) throw new Gone();
    return last;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
