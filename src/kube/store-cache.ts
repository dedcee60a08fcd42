// Watches store Secrets and keeps only their key names. An informer would keep whole objects
// (values included), so this lists and watches by hand and projects every object to its key
// names as it arrives. A miss can be checked with one bounded live lookup.
//
// Least privilege: the API server is asked only for Secrets matching the label selectors (one
// list-and-watch per selector and namespace), so other Secrets' values never reach this process.
// A store is known while any selector's watch reports it.
//
// The parts: store-client.ts (what is asked of the API), store-claims.ts (selectors merged into
// one index), store-watch.ts (the list-and-watch loop), store-lookup.ts (the live lookup).

import { setMaxListeners } from "node:events";
import type { SecretIndex } from "../core/secret-index.js";
import { MAX_LABEL_SELECTORS, StoreClaims } from "./store-claims.js";
import { type StoreClient, type StoreRequests, storeClientOf } from "./store-client.js";
import type { LookupResult, StoreCacheEvent } from "./store-events.js";
import { LiveLookup } from "./store-lookup.js";
import { listAndWatch } from "./store-watch.js";

export { MAX_LABEL_SELECTORS } from "./store-claims.js";
export type { StoreClient } from "./store-client.js";
export type { LookupResult, StoreCacheEvent } from "./store-events.js";

/** A Kubernetes client (its requests become the cache's list, watch and get), or a StoreClient. */
export type StoreApi = StoreRequests | StoreClient;

export interface StoreCacheOptions {
  /** Namespaces to watch; empty watches all namespaces (needs cluster-wide list/watch). */
  namespaces: readonly string[];
  /** Label selectors of store Secrets, at least one; a Secret matching any of them is a store. */
  labelSelectors: readonly string[];
  lookupTimeoutMs: number;
  /** First wait after a failed list or watch; doubles up to 30 s. */
  initialBackoffMs?: number;
  /** Called with short, value-free descriptions of what happened. */
  onEvent?: (event: StoreCacheEvent) => void;
}

export class StoreCache implements SecretIndex {
  readonly #client: StoreClient;
  readonly #claims = new StoreClaims();
  readonly #lookup: LiveLookup;
  readonly #options: StoreCacheOptions;
  readonly #scopes: readonly string[];
  readonly #synced = new Set<string>();
  // One signal for every loop: aborting it ends each watch and wakes each backoff sleep.
  readonly #stop = new AbortController();
  readonly #loops: Promise<void>[] = [];

  constructor(api: StoreApi, options: StoreCacheOptions) {
    if (options.labelSelectors.length === 0 || options.labelSelectors.length > MAX_LABEL_SELECTORS)
      throw new Error(`the store cache needs 1 to ${MAX_LABEL_SELECTORS} label selectors`);
    this.#client = "list" in api ? api : storeClientOf(api);
    this.#options = options;
    this.#scopes = options.namespaces.length === 0 ? [""] : options.namespaces;
    const { labelSelectors, lookupTimeoutMs, onEvent } = options;
    this.#lookup = new LiveLookup(this.#client, this.#claims, labelSelectors, lookupTimeoutMs, onEvent);
    // A listener per loop (watch or sleep): many namespaces are not a leak.
    setMaxListeners(0, this.#stop.signal);
  }

  /** Starts one list-and-watch loop per namespace (or one for all) and selector; returns at once. */
  start(): void {
    for (const scope of this.#scopes)
      for (const [selector, labelSelector] of this.#options.labelSelectors.entries())
        this.#loops.push(
          listAndWatch({
            client: this.#client,
            claims: this.#claims,
            scope,
            selector,
            labelSelector,
            initialBackoffMs: this.#options.initialBackoffMs ?? 500,
            signal: this.#stop.signal,
            onSynced: () => this.#synced.add(`${selector}|${scope}`),
            onEvent: this.#options.onEvent,
          }),
        );
  }

  /** Ends every loop (sleeping or watching); resolves once all have returned. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#loops);
  }

  get synced(): boolean {
    return this.#synced.size >= this.#scopes.length * this.#options.labelSelectors.length;
  }

  get storeCount(): number {
    return this.#claims.index.storeCount;
  }

  get keyCount(): number {
    return this.#claims.index.keyCount;
  }

  keysOf(namespace: string, store: string): ReadonlySet<string> | undefined {
    return this.#claims.index.keysOf(namespace, store);
  }

  /** One live lookup of a single store, bounded by lookupTimeoutMs; concurrent asks share it. */
  refresh(namespace: string, store: string): Promise<LookupResult> {
    return this.#lookup.refresh(namespace, store);
  }
}
