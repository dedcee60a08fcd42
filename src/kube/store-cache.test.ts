// Unit test of the store cache against a small in-memory double of the API client (not the real
// API server: test/e2e/least-privilege.test.ts covers that). The double evaluates `key=value` and
// `key` selectors and sends watch events as the API server does: a Secret that stops matching a
// watch's selector is DELETED from that watch.

import { describe, expect, it, vi } from "vitest";
import { KubeError, type RequestOptions, type WatchEvent } from "./api-client.js";
import { type StoreApi, StoreCache, type StoreCacheEvent } from "./store-cache.js";

interface FakeSecret {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  data: Record<string, string>;
}

interface Watcher {
  path: string;
  labelSelector: string;
  onEvent: (event: WatchEvent) => void;
  end: () => void;
}

function matches(labels: Record<string, string>, selector: string): boolean {
  return selector
    .split(",")
    .filter((term) => term !== "")
    .every((term) => {
      const [key, value] = term.split("=") as [string, string | undefined];
      return value === undefined ? key in labels : labels[key] === value;
    });
}

class FakeKube implements StoreApi {
  readonly secrets = new Map<string, FakeSecret & { resourceVersion: string }>();
  readonly requests: Array<{
    method: string;
    path: string;
    query: Record<string, unknown>;
    accept?: string;
  }> = [];
  readonly watchers = new Set<Watcher>();
  failLists = false;
  #revision = 100;

  #inScope(path: string, secret: FakeSecret): boolean {
    return path === "/api/v1/secrets" || path === `/api/v1/namespaces/${secret.namespace}/secrets`;
  }

  #object(secret: FakeSecret & { resourceVersion: string }, withData = true): Record<string, unknown> {
    return {
      metadata: {
        name: secret.name,
        namespace: secret.namespace,
        labels: secret.labels,
        resourceVersion: secret.resourceVersion,
      },
      ...(withData ? { data: secret.data } : {}),
    };
  }

  /** Creates, changes or (with undefined) deletes a Secret; `silently` tells no watch. */
  write(
    namespace: string,
    name: string,
    next: Omit<FakeSecret, "namespace" | "name"> | undefined,
    silently = false,
  ) {
    const id = `${namespace}/${name}`;
    const before = this.secrets.get(id);
    const resourceVersion = String(++this.#revision);
    const after = next ? { namespace, name, ...next, resourceVersion } : undefined;
    if (after) this.secrets.set(id, after);
    else this.secrets.delete(id);
    if (silently) return;
    for (const watcher of this.watchers) {
      const probe = (after ?? before) as FakeSecret;
      if (!this.#inScope(watcher.path, probe)) continue;
      const was = before !== undefined && matches(before.labels, watcher.labelSelector);
      const is = after !== undefined && matches(after.labels, watcher.labelSelector);
      if (is)
        watcher.onEvent({
          type: was ? "MODIFIED" : "ADDED",
          object: this.#object(after as typeof before & {}),
        });
      else if (was)
        watcher.onEvent({
          type: "DELETED",
          object: this.#object({ ...(before as FakeSecret), resourceVersion }),
        });
    }
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const query = { ...options.query };
    this.requests.push({ method, path, query, accept: options.accept });
    const single = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(path);
    if (single) {
      const secret = this.secrets.get(`${single[1]}/${decodeURIComponent(single[2] as string)}`);
      if (!secret) throw new KubeError(404, `GET ${path}: HTTP 404: not found`);
      return this.#object(secret, options.accept === undefined) as T;
    }
    if (this.failLists) throw new Error(`GET ${path}: connect ECONNREFUSED 127.0.0.1:1`);
    const selector = String(query.labelSelector ?? "");
    const field = String(query.fieldSelector ?? "");
    const items = [...this.secrets.values()].filter(
      (s) =>
        this.#inScope(path, s) &&
        matches(s.labels, selector) &&
        (field === "" || field === `metadata.name=${s.name}`),
    );
    return {
      items: items.map((s) => this.#object(s)),
      metadata: { resourceVersion: String(this.#revision) },
    } as T;
  }

  watch(
    path: string,
    query: RequestOptions["query"],
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const watcher: Watcher = {
        path,
        labelSelector: String(query?.labelSelector ?? ""),
        onEvent,
        end: () => {
          this.watchers.delete(watcher);
          resolve();
        },
      };
      this.watchers.add(watcher);
      signal.addEventListener("abort", () => {
        this.watchers.delete(watcher);
        reject(new Error("aborted"));
      });
    });
  }

  watcherOf(labelSelector: string): Watcher {
    const found = [...this.watchers].find((w) => w.labelSelector === labelSelector);
    if (!found) throw new Error(`no watch with selector ${labelSelector}`);
    return found;
  }

  lists(labelSelector: string): number {
    return this.requests.filter((r) => r.query.labelSelector === labelSelector && !r.query.fieldSelector)
      .length;
  }
}

const API_LABEL = "platform.apolo.us/secrets-store=true";
const PLATFORM_LABEL = "platform.neuromation.io/secret-api-org-name";
const SELECTORS = [API_LABEL, PLATFORM_LABEL];
const apiLabels = { "platform.apolo.us/secrets-store": "true" };
const platformLabels = { "platform.neuromation.io/secret-api-org-name": "acme" };
const data = (...keys: string[]) =>
  Object.fromEntries(keys.map((k) => [k, Buffer.from("v").toString("base64")]));

async function started(kube: FakeKube, options: { namespaces?: string[]; events?: StoreCacheEvent[] } = {}) {
  const cache = new StoreCache(kube, {
    namespaces: options.namespaces ?? [],
    labelSelectors: SELECTORS,
    lookupTimeoutMs: 1000,
    onEvent: (event) => options.events?.push(event),
  });
  cache.start();
  await vi.waitFor(() => {
    if (!cache.synced || kube.watchers.size < SELECTORS.length) throw new Error("not yet watching");
  });
  return cache;
}

describe("StoreCache with several label selectors", () => {
  it("lists and watches each selector and knows the stores any of them reports, nothing else", async () => {
    const kube = new FakeKube();
    kube.write("jobs", "user--alice--secrets", { labels: apiLabels, data: data("a1", "a2") });
    kube.write("jobs", "user--bob--secrets", { labels: platformLabels, data: data("b1") });
    kube.write("jobs", "user--carol--secrets", { labels: {}, data: data("c1") });
    kube.write("jobs", "tls-keys", { labels: apiLabels, data: data("tls.key") });
    const cache = await started(kube);

    expect([...(cache.keysOf("jobs", "user--alice--secrets") ?? [])]).toEqual(["a1", "a2"]);
    expect([...(cache.keysOf("jobs", "user--bob--secrets") ?? [])]).toEqual(["b1"]);
    expect(cache.keysOf("jobs", "user--carol--secrets")).toBeUndefined();
    expect(cache.keysOf("jobs", "tls-keys")).toBeUndefined();
    expect(cache.storeCount).toBe(2);
    // Every list and watch carried one of the selectors: no request asked for all Secrets.
    expect(kube.requests.every((r) => SELECTORS.includes(String(r.query.labelSelector)))).toBe(true);
    expect([...kube.watchers].map((w) => w.labelSelector).sort()).toEqual([...SELECTORS].sort());

    kube.write("jobs", "user--dan--secrets", { labels: platformLabels, data: data("d1") });
    expect([...(cache.keysOf("jobs", "user--dan--secrets") ?? [])]).toEqual(["d1"]);
    await cache.stop();
  });

  it("keeps a store that one selector's watch drops while another still reports it", async () => {
    const kube = new FakeKube();
    kube.write("jobs", "user--alice--secrets", {
      labels: { ...apiLabels, ...platformLabels },
      data: data("k"),
    });
    const cache = await started(kube);

    // The API's label is removed: that selector's watch sends DELETED, the other MODIFIED.
    kube.write("jobs", "user--alice--secrets", { labels: platformLabels, data: data("k", "k2") });
    expect([...(cache.keysOf("jobs", "user--alice--secrets") ?? [])]).toEqual(["k", "k2"]);
    // A DELETED from the first watch again (a late duplicate) changes nothing either.
    kube.watcherOf(API_LABEL).onEvent({
      type: "DELETED",
      object: { metadata: { name: "user--alice--secrets", namespace: "jobs", resourceVersion: "1" } },
    });
    expect(cache.keysOf("jobs", "user--alice--secrets")).toBeDefined();

    kube.write("jobs", "user--alice--secrets", { labels: {}, data: data("k", "k2") });
    expect(cache.keysOf("jobs", "user--alice--secrets")).toBeUndefined();
    await cache.stop();
  });

  it("never goes back to older keys when a lagging watch repeats an earlier version", async () => {
    const kube = new FakeKube();
    kube.write("jobs", "user--alice--secrets", {
      labels: { ...apiLabels, ...platformLabels },
      data: data("old"),
    });
    const cache = await started(kube);
    kube.write("jobs", "user--alice--secrets", {
      labels: { ...apiLabels, ...platformLabels },
      data: data("new"),
    });
    kube.watcherOf(PLATFORM_LABEL).onEvent({
      type: "MODIFIED",
      object: {
        metadata: { name: "user--alice--secrets", namespace: "jobs", resourceVersion: "101" },
        data: data("old"),
      },
    });
    expect([...(cache.keysOf("jobs", "user--alice--secrets") ?? [])]).toEqual(["new"]);
    await cache.stop();
  });

  it("relists a selector after 410 Gone and catches up with what its watch missed", async () => {
    const kube = new FakeKube();
    kube.write("jobs", "user--alice--secrets", { labels: apiLabels, data: data("k") });
    kube.write("jobs", "user--bob--secrets", { labels: apiLabels, data: data("k") });
    const events: StoreCacheEvent[] = [];
    const cache = await started(kube, { events });
    const listsBefore = kube.lists(API_LABEL);
    const otherListsBefore = kube.lists(PLATFORM_LABEL);

    // Changes the watch never delivered, then the server says the resourceVersion is too old.
    kube.write("jobs", "user--alice--secrets", { labels: apiLabels, data: data("k", "added") }, true);
    kube.write("jobs", "user--bob--secrets", undefined, true);
    const watcher = kube.watcherOf(API_LABEL);
    watcher.onEvent({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
    watcher.end();

    await vi.waitFor(() => expect(kube.lists(API_LABEL)).toBe(listsBefore + 1));
    await vi.waitFor(() => expect(kube.watchers.size).toBe(2));
    expect([...(cache.keysOf("jobs", "user--alice--secrets") ?? [])]).toEqual(["k", "added"]);
    expect(cache.keysOf("jobs", "user--bob--secrets")).toBeUndefined();
    expect(kube.lists(PLATFORM_LABEL)).toBe(otherListsBefore);
    expect(events).toContainEqual({
      kind: "relist",
      scope: "*",
      selector: API_LABEL,
      reason: "resourceVersion expired (410)",
    });
    await cache.stop();
  });

  it("stop() wakes every loop sleeping in backoff, not only the last one", { timeout: 5_000 }, async () => {
    const kube = new FakeKube();
    kube.failLists = true;
    const events: StoreCacheEvent[] = [];
    const cache = new StoreCache(kube, {
      namespaces: ["jobs-a", "jobs-b"],
      labelSelectors: SELECTORS,
      lookupTimeoutMs: 1000,
      // Far longer than the test may take: only a wake-up ends these sleeps in time.
      initialBackoffMs: 60_000,
      onEvent: (event) => events.push(event),
    });
    cache.start();
    await vi.waitFor(() => expect(events.filter((e) => e.kind === "watch-error")).toHaveLength(4));
    expect(cache.synced).toBe(false);
    await cache.stop();
    expect(kube.lists(API_LABEL) + kube.lists(PLATFORM_LABEL)).toBe(4);
  });
});

describe("StoreCache live lookup on a miss", () => {
  it("finds a labelled store the watch has not delivered yet, asking with the selectors", async () => {
    const kube = new FakeKube();
    const cache = await started(kube, { namespaces: ["jobs"] });
    kube.write("jobs", "user--alice--secrets", { labels: platformLabels, data: data("fresh") }, true);
    expect(cache.keysOf("jobs", "user--alice--secrets")).toBeUndefined();

    expect(await cache.refresh("jobs", "user--alice--secrets")).toBe("found");
    expect([...(cache.keysOf("jobs", "user--alice--secrets") ?? [])]).toEqual(["fresh"]);
    const lookups = kube.requests.filter((r) => r.query.fieldSelector !== undefined);
    expect(lookups.map((r) => r.query)).toEqual(
      SELECTORS.map((labelSelector) => ({
        labelSelector,
        fieldSelector: "metadata.name=user--alice--secrets",
      })),
    );
    await cache.stop();
  });

  it("treats an unlabelled store as absent, reads only its metadata, and says it lacks the label", async () => {
    const kube = new FakeKube();
    const events: StoreCacheEvent[] = [];
    const cache = await started(kube, { namespaces: ["jobs"], events });
    kube.write("jobs", "user--carol--secrets", { labels: {}, data: data("k") });

    expect(await cache.refresh("jobs", "user--carol--secrets")).toBe("absent");
    expect(cache.keysOf("jobs", "user--carol--secrets")).toBeUndefined();
    // The hint is looked up after the answer, off the admission's path.
    await vi.waitFor(() =>
      expect(events).toContainEqual({
        kind: "unlabelled-store",
        namespace: "jobs",
        store: "user--carol--secrets",
      }),
    );
    const reads = kube.requests.filter((r) => r.path.endsWith("/user--carol--secrets"));
    expect(reads).toHaveLength(1);
    expect(reads[0]?.accept).toContain("as=PartialObjectMetadata");

    events.length = 0;
    expect(await cache.refresh("jobs", "user--nobody--secrets")).toBe("absent");
    await vi.waitFor(() =>
      expect(kube.requests.some((r) => r.path.endsWith("/user--nobody--secrets"))).toBe(true),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(events.filter((e) => e.kind === "unlabelled-store")).toEqual([]);
    await cache.stop();
  });

  it("escapes the store name in the field selector", async () => {
    const kube = new FakeKube();
    const cache = await started(kube, { namespaces: ["jobs"] });
    await cache.refresh("jobs", "user--a,metadata.namespace=x--secrets");
    const sent = kube.requests
      .filter((r) => r.query.fieldSelector !== undefined)
      .map((r) => r.query.fieldSelector);
    expect(sent[0]).toBe("metadata.name=user--a\\,metadata.namespace\\=x--secrets");
    await cache.stop();
  });
});
