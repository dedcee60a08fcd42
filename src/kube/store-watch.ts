// One list-and-watch loop: one label selector in one scope (a namespace, or "" for all). It lists
// page by page, replaces what the selector reported there, then watches from the list's version
// until stopped. 410 Gone relists at once; any other error waits (doubling, up to 30 s) and
// relists, since the watch may have missed events.

import { KubeError, type WatchEvent } from "./api-client.js";
import type { Secret } from "./secrets.js";
import { projectStore, type StoreClaims } from "./store-claims.js";
import type { StoreClient } from "./store-client.js";
import { firstLine, type StoreCacheEventSink } from "./store-events.js";

// Each watch is ended by the server after this long and resumed from the last resourceVersion,
// so a connection cut silently (no FIN) is noticed within a minute.
const WATCH_TIMEOUT_SECONDS = 50;
export const LIST_PAGE_SIZE = 100;
const LIST_TIMEOUT_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;

export interface WatchLoop {
  client: StoreClient;
  claims: StoreClaims;
  scope: string;
  selector: number;
  labelSelector: string;
  initialBackoffMs: number;
  /** Aborted by stop(): ends the watch under way and every backoff sleep at once. */
  signal: AbortSignal;
  onSynced: () => void;
  onEvent: StoreCacheEventSink;
}

class Gone extends Error {}

/** Runs until `signal` aborts. */
export async function listAndWatch(loop: WatchLoop): Promise<void> {
  const labels = { scope: loop.scope || "*", selector: loop.labelSelector };
  let backoffMs = loop.initialBackoffMs;
  let resourceVersion: string | undefined;
  while (!loop.signal.aborted) {
    try {
      if (resourceVersion === undefined) resourceVersion = await list(loop);
      resourceVersion = await watchFrom(loop, resourceVersion);
      backoffMs = loop.initialBackoffMs;
    } catch (error) {
      if (loop.signal.aborted) return;
      // An error means the watch may have missed events: start over with a fresh list.
      resourceVersion = undefined;
      if (error instanceof Gone || (error instanceof KubeError && error.status === 410)) {
        loop.onEvent?.({ kind: "relist", ...labels, reason: "resourceVersion expired (410)" });
        continue;
      }
      loop.onEvent?.({ kind: "watch-error", ...labels, error: firstLine(error), retryInMs: backoffMs });
      await sleep(backoffMs, loop.signal);
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    }
  }
}

/** Lists the selector in the scope page by page, then replaces what it reported there at once. */
async function list(loop: WatchLoop): Promise<string> {
  const found: Secret[] = [];
  let next: string | undefined;
  let resourceVersion = "";
  do {
    const page = await loop.client.list(
      loop.scope,
      { labelSelector: loop.labelSelector, limit: LIST_PAGE_SIZE, continue: next },
      LIST_TIMEOUT_MS,
    );
    for (const secret of page.items) {
      const store = projectStore(secret, loop.scope);
      if (store) found.push(store);
    }
    next = page.metadata?.continue || undefined;
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
  } while (next);
  loop.claims.replace(loop.selector, loop.scope, found);
  loop.onSynced();
  loop.onEvent?.({
    kind: "synced",
    scope: loop.scope || "*",
    selector: loop.labelSelector,
    stores: found.length,
  });
  return resourceVersion;
}

/** Watches until the server ends the watch; returns the last resourceVersion seen. */
async function watchFrom(loop: WatchLoop, resourceVersion: string): Promise<string> {
  // stop() may have come while the list was under way: no new watch then.
  if (loop.signal.aborted) return resourceVersion;
  let last = resourceVersion;
  let gone = false;
  const onEvent = (event: WatchEvent) => {
    if (event.type === "ERROR") {
      if ((event.object as { code?: number }).code === 410) gone = true;
      return;
    }
    const secret = event.object as Secret;
    const version = secret.metadata?.resourceVersion;
    if (version) last = version;
    apply(loop, event.type, secret);
  };
  const query = { labelSelector: loop.labelSelector, resourceVersion, timeoutSeconds: WATCH_TIMEOUT_SECONDS };
  await loop.client.watch(loop.scope, query, onEvent, loop.signal);
  if (gone) throw new Gone();
  return last;
}

function apply(loop: WatchLoop, type: WatchEvent["type"], secret: Secret): void {
  if (type === "ADDED" || type === "MODIFIED") loop.claims.report(loop.selector, secret, loop.scope);
  else if (type === "DELETED") {
    const name = secret.metadata?.name;
    if (name) loop.claims.unreport(loop.selector, secret.metadata?.namespace ?? loop.scope, name);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (stop() wakes every sleeping loop). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener("abort", wake, { once: true });
  });
}
