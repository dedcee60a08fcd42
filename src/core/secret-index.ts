// What the core reads about stores: the key names of a Secret, never its values.

export interface SecretIndex {
  /** Key names of the store Secret, or undefined when the index holds no such Secret. */
  keysOf(namespace: string, store: string): ReadonlySet<string> | undefined;
}

/** An index held in memory: the offline command's store, the tests', and the cache's storage. */
export class MemorySecretIndex implements SecretIndex {
  readonly #stores = new Map<string, ReadonlySet<string>>();
  #keyCount = 0;

  keysOf(namespace: string, store: string): ReadonlySet<string> | undefined {
    return this.#stores.get(`${namespace}/${store}`);
  }

  set(namespace: string, store: string, keys: Iterable<string>): void {
    const id = `${namespace}/${store}`;
    const next = new Set(keys);
    this.#keyCount += next.size - (this.#stores.get(id)?.size ?? 0);
    this.#stores.set(id, next);
  }

  delete(namespace: string, store: string): void {
    const id = `${namespace}/${store}`;
    this.#keyCount -= this.#stores.get(id)?.size ?? 0;
    this.#stores.delete(id);
  }

  /** Drops every store of a namespace (a relist replaces them). */
  clearNamespace(namespace: string): void {
    for (const [id, keys] of this.#stores) {
      if (id.startsWith(`${namespace}/`)) {
        this.#keyCount -= keys.size;
        this.#stores.delete(id);
      }
    }
  }

  clear(): void {
    this.#stores.clear();
    this.#keyCount = 0;
  }

  get storeCount(): number {
    return this.#stores.size;
  }

  get keyCount(): number {
    return this.#keyCount;
  }
}
