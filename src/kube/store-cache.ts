// Watches store Secrets and keeps only their key names. An informer would keep whole objects
// (values included), so this lists and watches by hand and projects every object to its key
// names as it arrives. A miss can be checked with one bounded live lookup.
//
// Least privilege: the API server is asked only for Secrets matching the label selectors (one
// list-and-watch per selector and namespace), so other Secrets' values never reach this process.
// A store is known while any selector's watch reports it.

import { isDigits } from "../core/charset.js";
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

/** What the cache needs of an API client (a test can pass a small in-memory one). */
export type StoreApi = Pick<KubeClient, "request" | "watch">;

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

export type StoreCacheEvent =
  | { kind: "synced"; scope: string; selector: string; stores: number }
  | { kind: "watch-error"; scope: string; selector: string; error: string; retryInMs: number }
  | { kind: "relist"; scope: string; selector: string; reason: string }
  /** A Secret named like a store that no selector matches: treated as absent. */
  | { kind: "unlabelled-store"; namespace: string; store: string };

export type LookupResult = "found" | "absent" | "error" | "timeout";

// Each watch is ended by the server after this long and resumed from the last resourceVersion,
// so a connection cut silently (no FIN) is noticed within a minute.
const WATCH_TIMEOUT_SECONDS = 50;
const LIST_PAGE_SIZE = 100;
const MAX_BACKOFF_MS = 30_000;
// Only the metadata of a Secret (no data): enough to tell "exists, but unlabelled" on a miss.
const METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

class Gone extends Error {}

/** One store as the watches report it: which selectors have it (a bit each), the newest version applied. */
interface Entry {
  namespace: string;
  name: string;
  selectors: number;
  version: number | undefined;
}

// Selectors are bits of Entry.selectors (a number per store costs less than a Set at 10k owners).
export const MAX_LABEL_SELECTORS = 30;

function keyNames(secret: SecretObject): string[] {
  return Object.keys(secret.data ?? {});
}

function versionOf(secret: SecretObject): number | undefined {
  const text = secret.metadata?.resourceVersion;
  // etcd revisions are decimal (far below 2^53); anything else is applied without ordering.
  return text && text.length <= 15 && isDigits(text) ? Number(text) : undefined;
}

/** A field-selector value: `\`, `,` and `=` are escaped with a backslash. */
function fieldValue(text: string): string {
  let out = "";
  for (const ch of text) out += ch === "\\" || ch === "," || ch === "=" ? `\\${ch}` : ch;
  return out;
}

function secretsPath(scope: string): string {
  return scope === "" ? "/api/v1/secrets" : `/api/v1/namespaces/${encodeURIComponent(scope)}/secrets`;
}

export class StoreCache implements SecretIndex {
  readonly #index = new MemorySecretIndex();
  readonly #entries = new Map<string, Entry>();
  readonly #api: StoreApi;
  readonly #options: StoreCacheOptions;
  readonly #scopes: readonly string[];
  readonly #synced = new Set<string>();
  readonly #lookups = new Map<string, Promise<LookupResult>>();
  readonly #aborts = new Set<AbortController>();
  // Every sleeping loop's waker: stop() must wake them all, not only the last one to sleep.
  readonly #sleepers = new Set<() => void>();
  readonly #loops: Promise<void>[] = [];
  #stopped = false;

  constructor(api: StoreApi, options: StoreCacheOptions) {
    if (options.labelSelectors.length === 0 || options.labelSelectors.length > MAX_LABEL_SELECTORS)
      throw new Error(`the store cache needs 1 to ${MAX_LABEL_SELECTORS} label selectors`);
    this.#api = api;
    this.#options = options;
    this.#scopes = options.namespaces.length === 0 ? [""] : options.namespaces;
  }

  /** Starts one list-and-watch loop per namespace (or one for all) and selector; returns at once. */
  start(): void {
    for (const scope of this.#scopes)
      for (let selector = 0; selector < this.#options.labelSelectors.length; selector++)
        this.#loops.push(this.#run(scope, selector));
  }

  /** Ends every loop (sleeping or watching); resolves once all have returned. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const abort of this.#aborts) abort.abort();
    for (const wake of this.#sleepers) wake();
    await Promise.all(this.#loops);
  }

  get synced(): boolean {
    return this.#synced.size >= this.#scopes.length * this.#options.labelSelectors.length;
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

  /** One live lookup of a single store, bounded by lookupTimeoutMs; concurrent asks share it. */
  refresh(namespace: string, store: string): Promise<LookupResult> {
    const id = `${namespace}/${store}`;
    const pending = this.#lookups.get(id);
    if (pending) return pending;
    const lookup = this.#lookup(namespace, store).finally(() => this.#lookups.delete(id));
    this.#lookups.set(id, lookup);
    return lookup;
  }

  // The lookup asks with the same selectors as the watches, so a store the watches would never
  // report is absent here too: the answer does not depend on whether the cache had caught up.
  async #lookup(namespace: string, store: string): Promise<LookupResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#options.lookupTimeoutMs);
    });
    const read = this.#selectOne(namespace, store).catch((): LookupResult => "error");
    try {
      return await Promise.race([read, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #selectOne(namespace: string, store: string): Promise<LookupResult> {
    const path = secretsPath(namespace);
    const timeoutMs = this.#options.lookupTimeoutMs;
    const pages = await Promise.all(
      this.#options.labelSelectors.map((labelSelector) =>
        this.#api.request<SecretList>("GET", path, {
          query: { labelSelector, fieldSelector: `metadata.name=${fieldValue(store)}` },
          timeoutMs,
        }),
      ),
    );
    let found = false;
    for (const [selector, page] of pages.entries()) {
      const secret = page.items.find((s) => s.metadata?.name === store);
      if (!secret) continue;
      found = true;
      this.#report(selector, secret, namespace);
    }
    if (found && this.#index.keysOf(namespace, store)) return "found";
    this.#forget(namespace, store);
    void this.#hintIfUnlabelled(path, namespace, store);
    return "absent";
  }

  /** Absent either way; says so when the Secret exists without the labels. Off the answer's path. */
  async #hintIfUnlabelled(path: string, namespace: string, store: string): Promise<void> {
    try {
      await this.#api.request("GET", `${path}/${encodeURIComponent(store)}`, {
        accept: METADATA_ONLY,
        timeoutMs: this.#options.lookupTimeoutMs,
      });
      this.#options.onEvent?.({ kind: "unlabelled-store", namespace, store });
    } catch {
      // 404: truly absent. Anything else: the hint is best effort; the answer stands.
    }
  }

  /** A selector reports a Secret (listed, added or modified): keep its key names if it is a store. */
  #report(selector: number, secret: SecretObject, fallbackNamespace: string): void {
    const name = secret.metadata?.name;
    const namespace = secret.metadata?.namespace ?? fallbackNamespace;
    if (!name || storeOwner(name) === undefined) return;
    const id = `${namespace}/${name}`;
    let entry = this.#entries.get(id);
    if (!entry) {
      entry = { namespace, name, selectors: 0, version: undefined };
      this.#entries.set(id, entry);
    }
    entry.selectors |= 1 << selector;
    const version = versionOf(secret);
    // Two watches deliver the same change at different moments: never go back to older keys.
    if (version !== undefined && entry.version !== undefined && version < entry.version) return;
    entry.version = version;
    this.#index.set(namespace, name, keyNames(secret));
  }

  /** A selector no longer reports a store (deleted, or its label removed). */
  #unreport(selector: number, namespace: string, name: string): void {
    const id = `${namespace}/${name}`;
    const entry = this.#entries.get(id);
    if (!entry) return;
    entry.selectors &= ~(1 << selector);
    if (entry.selectors === 0) this.#forget(namespace, name);
  }

  #forget(namespace: string, name: string): void {
    this.#entries.delete(`${namespace}/${name}`);
    this.#index.delete(namespace, name);
  }

  async #run(scope: string, selector: number): Promise<void> {
    const labels = {
      scope: scope || "*",
      selector: this.#options.labelSelectors[selector] as string,
    };
    const initialBackoffMs = this.#options.initialBackoffMs ?? 500;
    let backoffMs = initialBackoffMs;
    let resourceVersion: string | undefined;
    while (!this.#stopped) {
      try {
        if (resourceVersion === undefined) resourceVersion = await this.#list(scope, selector);
        resourceVersion = await this.#watchFrom(scope, selector, resourceVersion);
        backoffMs = initialBackoffMs;
      } catch (error) {
        if (this.#stopped) return;
        if (error instanceof Gone || (error instanceof KubeError && error.status === 410)) {
          this.#options.onEvent?.({ kind: "relist", ...labels, reason: "resourceVersion expired (410)" });
          resourceVersion = undefined;
          continue;
        }
        const message = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
        this.#options.onEvent?.({ kind: "watch-error", ...labels, error: message, retryInMs: backoffMs });
        await this.#sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        // After an error the watch may have missed events: start over with a fresh list.
        resourceVersion = undefined;
      }
    }
  }

  /** Lists one selector in the scope page by page, then replaces what it reported there at once. */
  async #list(scope: string, selector: number): Promise<string> {
    const labelSelector = this.#options.labelSelectors[selector] as string;
    const found: SecretObject[] = [];
    let next: string | undefined;
    let resourceVersion = "";
    do {
      const page = await this.#api.request<SecretList>("GET", secretsPath(scope), {
        query: { labelSelector, limit: LIST_PAGE_SIZE, continue: next },
        timeoutMs: 60_000,
      });
      for (const secret of page.items) {
        const name = secret.metadata?.name;
        // Project at once: only the name, namespace, version and key names are kept.
        if (name && storeOwner(name) !== undefined)
          found.push({
            metadata: {
              name,
              namespace: secret.metadata?.namespace ?? scope,
              resourceVersion: secret.metadata?.resourceVersion,
            },
            data: Object.fromEntries(keyNames(secret).map((key) => [key, ""])),
          });
      }
      next = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (next);
    const listed = new Set(found.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`));
    for (const [id, entry] of this.#entries) {
      const inScope = scope === "" || entry.namespace === scope;
      if (inScope && (entry.selectors & (1 << selector)) !== 0 && !listed.has(id))
        this.#unreport(selector, entry.namespace, entry.name);
    }
    for (const secret of found) this.#report(selector, secret, scope);
    this.#synced.add(`${selector}|${scope}`);
    this.#options.onEvent?.({
      kind: "synced",
      scope: scope || "*",
      selector: labelSelector,
      stores: found.length,
    });
    return resourceVersion;
  }

  /** Watches until the server ends the watch; returns the last resourceVersion seen. */
  async #watchFrom(scope: string, selector: number, resourceVersion: string): Promise<string> {
    // stop() may have come while the list was under way: no new watch then.
    if (this.#stopped) return resourceVersion;
    let last = resourceVersion;
    let gone = false;
    const abort = new AbortController();
    this.#aborts.add(abort);
    try {
      await this.#api.watch(
        secretsPath(scope),
        {
          resourceVersion,
          allowWatchBookmarks: true,
          labelSelector: this.#options.labelSelectors[selector],
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
          if (event.type === "ADDED" || event.type === "MODIFIED") this.#report(selector, secret, scope);
          else if (event.type === "DELETED") {
            const name = secret.metadata?.name;
            if (name) this.#unreport(selector, secret.metadata?.namespace ?? scope, name);
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
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }
}
