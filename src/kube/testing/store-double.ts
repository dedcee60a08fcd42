// An in-memory double of StoreClient (the store cache's view of the API server) for unit tests;
// not shipped (tsconfig.build.json leaves src/**/testing/ out). It evaluates `key=value` and `key`
// selectors, pages lists with `continue` tokens, and sends watch events as the API server does: a
// Secret that stops matching a watch's selector is DELETED from that watch. The real API server
// is covered end to end (test/e2e/least-privilege.test.ts).

import type { WatchEvent } from "../api-client.js";
import type { Secret, SecretList } from "../secrets.js";
import type { ListQuery, StoreClient, WatchQuery } from "../store-client.js";

interface Stored {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  data: Record<string, string>;
  resourceVersion: string;
}

export interface Watcher {
  namespace: string;
  query: WatchQuery;
  onEvent: (event: WatchEvent) => void;
  /** The server ends the watch normally. */
  end: () => void;
  /** The watch fails (connection cut, HTTP error). */
  fail: (error: Error) => void;
}

export type Call =
  | { op: "list"; namespace: string; query: ListQuery }
  | { op: "get"; namespace: string; name: string }
  | { op: "watch"; namespace: string; query: WatchQuery };

function matches(labels: Record<string, string>, selector: string): boolean {
  return selector
    .split(",")
    .filter((term) => term !== "")
    .every((term) => {
      const at = term.indexOf("=");
      return at === -1 ? term in labels : labels[term.slice(0, at)] === term.slice(at + 1);
    });
}

function inScope(scope: string, secret: Stored): boolean {
  return scope === "" || scope === secret.namespace;
}

function objectOf(secret: Stored, withData = true): Record<string, unknown> {
  const { name, namespace, labels, resourceVersion } = secret;
  return {
    metadata: { name, namespace, labels, resourceVersion },
    ...(withData ? { data: secret.data } : {}),
  };
}

export class InMemoryStores implements StoreClient {
  readonly secrets = new Map<string, Stored>();
  readonly calls: Call[] = [];
  readonly watchers = new Set<Watcher>();
  /** Lists in these namespaces ("" for cluster-wide lists) fail like a refused connection. */
  readonly failListsIn = new Set<string>();
  /** While set, lookups (lists by name) wait for it. */
  lookupGate: Promise<void> | undefined;
  revision = 100;

  /** Creates, changes or (with undefined) deletes a Secret; `silently` tells no watch. */
  write(
    namespace: string,
    name: string,
    next: Pick<Stored, "labels" | "data"> | undefined,
    silently = false,
  ) {
    const id = `${namespace}/${name}`;
    const before = this.secrets.get(id);
    const resourceVersion = String(++this.revision);
    const after = next ? { namespace, name, ...next, resourceVersion } : undefined;
    if (after) this.secrets.set(id, after);
    else this.secrets.delete(id);
    if (!silently) for (const watcher of this.watchers) this.#tell(watcher, before, after, resourceVersion);
  }

  #tell(watcher: Watcher, before: Stored | undefined, after: Stored | undefined, version: string): void {
    const probe = (after ?? before) as Stored;
    if (!inScope(watcher.namespace, probe)) return;
    const was = before !== undefined && matches(before.labels, watcher.query.labelSelector);
    const is = after !== undefined && matches(after.labels, watcher.query.labelSelector);
    if (after && is) watcher.onEvent({ type: was ? "MODIFIED" : "ADDED", object: objectOf(after) });
    else if (before && was)
      watcher.onEvent({ type: "DELETED", object: objectOf({ ...before, resourceVersion: version }) });
  }

  async list(namespace: string, query: ListQuery): Promise<SecretList> {
    this.calls.push({ op: "list", namespace, query: { ...query } });
    if (query.name !== undefined) await this.lookupGate;
    if (this.failListsIn.has(namespace)) throw new Error("connect ECONNREFUSED 127.0.0.1:1");
    const items = [...this.secrets.values()]
      .filter((s) => inScope(namespace, s) && matches(s.labels, query.labelSelector))
      .filter((s) => query.name === undefined || s.name === query.name)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const from = query.continue === undefined ? 0 : Number(query.continue.slice("after-".length));
    const to = query.limit ? from + query.limit : items.length;
    const more = to < items.length;
    return {
      items: items.slice(from, to).map((s) => objectOf(s) as Secret),
      metadata: { resourceVersion: String(this.revision), ...(more ? { continue: `after-${to}` } : {}) },
    };
  }

  async get(namespace: string, name: string): Promise<Secret | undefined> {
    this.calls.push({ op: "get", namespace, name });
    const secret = this.secrets.get(`${namespace}/${name}`);
    return secret ? (objectOf(secret, false) as Secret) : undefined;
  }

  watch(
    namespace: string,
    query: WatchQuery,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    this.calls.push({ op: "watch", namespace, query: { ...query } });
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        this.watchers.delete(watcher);
        if (error) reject(error);
        else resolve();
      };
      const watcher: Watcher = { namespace, query, onEvent, end: () => finish(), fail: finish };
      this.watchers.add(watcher);
      signal.addEventListener("abort", () => finish(new Error("aborted")), { once: true });
    });
  }

  watcherOf(labelSelector: string, namespace = ""): Watcher {
    const found = [...this.watchers].find(
      (w) => w.query.labelSelector === labelSelector && w.namespace === namespace,
    );
    if (!found) throw new Error(`no watch with selector ${labelSelector} in '${namespace}'`);
    return found;
  }

  /** Full lists (not lookups by name) of a selector so far. */
  lists(labelSelector: string): Call[] {
    return this.calls.filter(
      (c) => c.op === "list" && c.query.labelSelector === labelSelector && !c.query.name,
    );
  }

  lookups(): Call[] {
    return this.calls.filter((c) => c.op === "list" && c.query.name !== undefined);
  }
}

export const API_LABEL = "platform.apolo.us/secrets-store=true";
export const PLATFORM_LABEL = "platform.neuromation.io/secret-api-org-name";
export const SELECTORS = [API_LABEL, PLATFORM_LABEL];
export const apiLabels = { "platform.apolo.us/secrets-store": "true" };
export const platformLabels = { "platform.neuromation.io/secret-api-org-name": "acme" };
export const data = (...keys: string[]) =>
  Object.fromEntries(keys.map((k) => [k, Buffer.from("v").toString("base64")]));
