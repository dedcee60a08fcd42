// The live lookup of one store on a miss: bounded by a timeout, shared by concurrent asks for the
// same store (one GET per selector however many admissions wait), and asked with the same
// selectors as the watches, so a store the watches would never report is absent here too: the
// answer does not depend on whether the cache had caught up.

import type { StoreClaims } from "./store-claims.js";
import type { StoreClient } from "./store-client.js";
import type { LookupResult, StoreCacheEventSink } from "./store-events.js";

export class LiveLookup {
  readonly #client: StoreClient;
  readonly #claims: StoreClaims;
  readonly #labelSelectors: readonly string[];
  readonly #timeoutMs: number;
  readonly #onEvent: StoreCacheEventSink;
  readonly #pending = new Map<string, Promise<LookupResult>>();

  constructor(
    client: StoreClient,
    claims: StoreClaims,
    labelSelectors: readonly string[],
    timeoutMs: number,
    onEvent: StoreCacheEventSink,
  ) {
    this.#client = client;
    this.#claims = claims;
    this.#labelSelectors = labelSelectors;
    this.#timeoutMs = timeoutMs;
    this.#onEvent = onEvent;
  }

  /** One live lookup of a single store, bounded by the timeout; concurrent asks share it. */
  refresh(namespace: string, store: string): Promise<LookupResult> {
    const id = `${namespace}/${store}`;
    const pending = this.#pending.get(id);
    if (pending) return pending;
    const lookup = this.#bounded(namespace, store).finally(() => this.#pending.delete(id));
    this.#pending.set(id, lookup);
    return lookup;
  }

  async #bounded(namespace: string, store: string): Promise<LookupResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#timeoutMs);
    });
    const read = this.#selectOne(namespace, store).catch((): LookupResult => "error");
    try {
      return await Promise.race([read, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #selectOne(namespace: string, store: string): Promise<LookupResult> {
    const pages = await Promise.all(
      this.#labelSelectors.map((labelSelector) =>
        this.#client.list(namespace, { labelSelector, name: store }, this.#timeoutMs),
      ),
    );
    let found = false;
    for (const [selector, page] of pages.entries()) {
      const secret = page.items.find((s) => s.metadata?.name === store);
      if (!secret) continue;
      found = true;
      this.#claims.report(selector, secret, namespace);
    }
    if (found && this.#claims.index.keysOf(namespace, store)) return "found";
    this.#claims.forget(namespace, store);
    void this.#hintIfUnlabelled(namespace, store);
    return "absent";
  }

  /** Absent either way; says so when the Secret exists without the labels. Off the answer's path. */
  async #hintIfUnlabelled(namespace: string, store: string): Promise<void> {
    try {
      if (await this.#client.get(namespace, store, this.#timeoutMs))
        this.#onEvent?.({ kind: "unlabelled-store", namespace, store });
    } catch {
      // The hint is best effort; the answer stands.
    }
  }
}
