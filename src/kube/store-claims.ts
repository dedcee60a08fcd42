// Which selectors report which store, merged into one index of key names. Each label selector has
// its own list-and-watch; a store is known while any of them reports it, and a late event from a
// lagging watch never brings back older keys.

import { isDigits } from "../core/charset.js";
import { storeOwner } from "../core/owner.js";
import { MemorySecretIndex } from "../core/secret-index.js";
import type { Secret } from "./secrets.js";

// Selectors are bits of Entry.selectors (a number per store costs less than a Set at 10k owners).
export const MAX_LABEL_SELECTORS = 30;

/** One store as the watches report it: which selectors have it (a bit each), the newest version applied. */
interface Entry {
  namespace: string;
  name: string;
  selectors: number;
  version: number | undefined;
}

function keyNames(secret: Secret): string[] {
  return Object.keys(secret.data ?? {});
}

function versionOf(secret: Secret): number | undefined {
  const text = secret.metadata?.resourceVersion;
  // etcd revisions are decimal (far below 2^53); anything else is applied without ordering.
  return text && text.length <= 15 && isDigits(text) ? Number(text) : undefined;
}

/**
 * Only what the cache keeps of a store Secret (name, namespace, version, key names with empty
 * values), or undefined when the name is not a store's. Listed pages are projected at once.
 */
export function projectStore(secret: Secret, fallbackNamespace: string): Secret | undefined {
  const name = secret.metadata?.name;
  if (!name || storeOwner(name) === undefined) return undefined;
  return {
    metadata: {
      name,
      namespace: secret.metadata?.namespace ?? fallbackNamespace,
      resourceVersion: secret.metadata?.resourceVersion,
    },
    data: Object.fromEntries(keyNames(secret).map((key) => [key, ""])),
  };
}

export class StoreClaims {
  readonly index = new MemorySecretIndex();
  readonly #entries = new Map<string, Entry>();

  /** A selector reports a Secret (listed, added or modified): keep its key names if it is a store. */
  report(selector: number, secret: Secret, fallbackNamespace: string): void {
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
    this.index.set(namespace, name, keyNames(secret));
  }

  /** A selector no longer reports a store (deleted, or its label removed). */
  unreport(selector: number, namespace: string, name: string): void {
    const entry = this.#entries.get(`${namespace}/${name}`);
    if (!entry) return;
    entry.selectors &= ~(1 << selector);
    if (entry.selectors === 0) this.forget(namespace, name);
  }

  forget(namespace: string, name: string): void {
    this.#entries.delete(`${namespace}/${name}`);
    this.index.delete(namespace, name);
  }

  /** A full list of one selector in a scope ("" = all): what it no longer lists is unreported. */
  replace(selector: number, scope: string, listed: readonly Secret[]): void {
    const ids = new Set(listed.map((s) => `${s.metadata?.namespace ?? scope}/${s.metadata?.name}`));
    for (const [id, entry] of this.#entries) {
      const inScope = scope === "" || entry.namespace === scope;
      if (inScope && (entry.selectors & (1 << selector)) !== 0 && !ids.has(id))
        this.unreport(selector, entry.namespace, entry.name);
    }
    for (const secret of listed) this.report(selector, secret, scope);
  }
}
