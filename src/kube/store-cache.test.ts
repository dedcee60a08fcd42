// Unit test of the store cache's list-and-watch loops against an in-memory double of its client
// interface (testing/store-double.ts: StoreClient, not the real API server;
// test/e2e/least-privilege.test.ts covers that). The live lookup is in store-lookup.test.ts.

import { describe, expect, it, vi } from "vitest";
import { KubeError } from "./api-client.js";
import { StoreCache, type StoreCacheEvent } from "./store-cache.js";
import { LIST_PAGE_SIZE } from "./store-watch.js";
import {
  API_LABEL,
  apiLabels,
  data,
  InMemoryStores,
  PLATFORM_LABEL,
  platformLabels,
  SELECTORS,
} from "./testing/store-double.js";

const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 10_000, interval: 2 });

interface Start {
  namespaces?: string[];
  events?: StoreCacheEvent[];
  initialBackoffMs?: number;
  selectors?: string[];
}

function cacheOf(stores: InMemoryStores, options: Start = {}): StoreCache {
  return new StoreCache(stores, {
    namespaces: options.namespaces ?? [],
    labelSelectors: options.selectors ?? SELECTORS,
    lookupTimeoutMs: 1000,
    initialBackoffMs: options.initialBackoffMs,
    onEvent: (event) => options.events?.push(event),
  });
}

async function started(stores: InMemoryStores, options: Start = {}) {
  const cache = cacheOf(stores, options);
  cache.start();
  const loops = (options.namespaces?.length || 1) * (options.selectors ?? SELECTORS).length;
  await waitFor(() => {
    if (!cache.synced || stores.watchers.size < loops) throw new Error("not yet watching");
  });
  return cache;
}

const keys = (cache: StoreCache, namespace: string, store: string) => [
  ...(cache.keysOf(namespace, store) ?? []),
];

describe("StoreCache with several label selectors", () => {
  it("lists and watches each selector and knows the stores any of them reports, nothing else", async () => {
    const stores = new InMemoryStores();
    stores.write("jobs", "user--alice--secrets", { labels: apiLabels, data: data("a1", "a2") });
    stores.write("jobs", "user--bob--secrets", { labels: platformLabels, data: data("b1") });
    stores.write("jobs", "user--carol--secrets", { labels: {}, data: data("c1") });
    stores.write("jobs", "tls-keys", { labels: apiLabels, data: data("tls.key") });
    const cache = await started(stores);

    expect(keys(cache, "jobs", "user--alice--secrets")).toEqual(["a1", "a2"]);
    expect(keys(cache, "jobs", "user--bob--secrets")).toEqual(["b1"]);
    expect(cache.keysOf("jobs", "user--carol--secrets")).toBeUndefined();
    expect(cache.keysOf("jobs", "tls-keys")).toBeUndefined();
    expect(cache.storeCount).toBe(2);
    expect(cache.keyCount).toBe(3);
    // Every list and watch carried one of the selectors: no request asked for all Secrets.
    const asked = stores.calls.map((c) => (c.op === "get" ? "" : c.query.labelSelector));
    expect(asked.every((selector) => SELECTORS.includes(selector))).toBe(true);
    expect([...stores.watchers].map((w) => w.query.labelSelector).sort()).toEqual([...SELECTORS].sort());

    stores.write("jobs", "user--dan--secrets", { labels: platformLabels, data: data("d1") });
    expect(keys(cache, "jobs", "user--dan--secrets")).toEqual(["d1"]);
    await cache.stop();
  });

  it("keeps a store that one selector's watch drops while another still reports it", async () => {
    const stores = new InMemoryStores();
    const both = { ...apiLabels, ...platformLabels };
    stores.write("jobs", "user--alice--secrets", { labels: both, data: data("k") });
    const cache = await started(stores);

    // The API's label is removed: that selector's watch sends DELETED, the other MODIFIED.
    stores.write("jobs", "user--alice--secrets", { labels: platformLabels, data: data("k", "k2") });
    expect(keys(cache, "jobs", "user--alice--secrets")).toEqual(["k", "k2"]);
    // A DELETED from the first watch again (a late duplicate) changes nothing either.
    stores.watcherOf(API_LABEL).onEvent({
      type: "DELETED",
      object: { metadata: { name: "user--alice--secrets", namespace: "jobs", resourceVersion: "1" } },
    });
    expect(cache.keysOf("jobs", "user--alice--secrets")).toBeDefined();

    stores.write("jobs", "user--alice--secrets", { labels: {}, data: data("k", "k2") });
    expect(cache.keysOf("jobs", "user--alice--secrets")).toBeUndefined();
    await cache.stop();
  });

  it("never goes back to older keys when a lagging watch repeats an earlier version", async () => {
    const stores = new InMemoryStores();
    const both = { ...apiLabels, ...platformLabels };
    stores.write("jobs", "user--alice--secrets", { labels: both, data: data("old") });
    const cache = await started(stores);
    stores.write("jobs", "user--alice--secrets", { labels: both, data: data("new") });
    stores.watcherOf(PLATFORM_LABEL).onEvent({
      type: "MODIFIED",
      object: {
        metadata: { name: "user--alice--secrets", namespace: "jobs", resourceVersion: "101" },
        data: data("old"),
      },
    });
    expect(keys(cache, "jobs", "user--alice--secrets")).toEqual(["new"]);
    await cache.stop();
  });
});

describe("StoreCache list and watch", () => {
  it("lists page by page, following each continue token, before it counts as synced", async () => {
    const stores = new InMemoryStores();
    const owners = LIST_PAGE_SIZE * 2 + 50;
    for (let i = 0; i < owners; i++)
      stores.write("jobs", `user--o${String(i).padStart(3, "0")}--secrets`, {
        labels: apiLabels,
        data: data(`k${i}`),
      });
    const cache = await started(stores, { selectors: [API_LABEL] });

    const pages = stores.lists(API_LABEL).map((c) => (c.op === "list" ? c.query : undefined));
    expect(pages.map((q) => [q?.limit, q?.continue])).toEqual([
      [LIST_PAGE_SIZE, undefined],
      [LIST_PAGE_SIZE, `after-${LIST_PAGE_SIZE}`],
      [LIST_PAGE_SIZE, `after-${LIST_PAGE_SIZE * 2}`],
    ]);
    expect(cache.storeCount).toBe(owners);
    expect(keys(cache, "jobs", "user--o249--secrets")).toEqual(["k249"]);
    // The watch starts from the list's version, so nothing between list and watch is lost.
    expect(stores.watcherOf(API_LABEL).query.resourceVersion).toBe(String(stores.revision));
    await cache.stop();
  });

  it("applies ADDED, MODIFIED, DELETED and BOOKMARK, and resumes from the last version without a relist", async () => {
    const stores = new InMemoryStores();
    const cache = await started(stores, { selectors: [API_LABEL] });
    const watcher = stores.watcherOf(API_LABEL);
    stores.write("jobs", "user--alice--secrets", { labels: apiLabels, data: data("a") });
    expect(keys(cache, "jobs", "user--alice--secrets")).toEqual(["a"]);
    stores.write("jobs", "user--alice--secrets", { labels: apiLabels, data: data("a", "b") });
    expect(keys(cache, "jobs", "user--alice--secrets")).toEqual(["a", "b"]);
    stores.write("jobs", "user--alice--secrets", undefined);
    expect(cache.keysOf("jobs", "user--alice--secrets")).toBeUndefined();
    watcher.onEvent({ type: "BOOKMARK", object: { metadata: { resourceVersion: "900" } } });

    // The server ends the watch (its timeout): the next watch starts where this one stopped.
    watcher.end();
    await waitFor(() => expect(stores.watchers.size).toBe(1));
    expect(stores.watcherOf(API_LABEL).query.resourceVersion).toBe("900");
    expect(stores.lists(API_LABEL)).toHaveLength(1);
    await cache.stop();
  });

  it("relists a selector after a 410 event and catches up with what its watch missed", async () => {
    const stores = new InMemoryStores();
    stores.write("jobs", "user--alice--secrets", { labels: apiLabels, data: data("k") });
    stores.write("jobs", "user--bob--secrets", { labels: apiLabels, data: data("k") });
    const events: StoreCacheEvent[] = [];
    const cache = await started(stores, { events });
    const otherLists = stores.lists(PLATFORM_LABEL).length;

    // Changes the watch never delivered, then the server says the resourceVersion is too old.
    stores.write("jobs", "user--alice--secrets", { labels: apiLabels, data: data("k", "added") }, true);
    stores.write("jobs", "user--bob--secrets", undefined, true);
    const watcher = stores.watcherOf(API_LABEL);
    watcher.onEvent({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
    watcher.end();

    await waitFor(() => expect(stores.lists(API_LABEL)).toHaveLength(2));
    await waitFor(() => expect(stores.watchers.size).toBe(2));
    expect(keys(cache, "jobs", "user--alice--secrets")).toEqual(["k", "added"]);
    expect(cache.keysOf("jobs", "user--bob--secrets")).toBeUndefined();
    expect(stores.lists(PLATFORM_LABEL)).toHaveLength(otherLists);
    expect(events).toContainEqual({
      kind: "relist",
      scope: "*",
      selector: API_LABEL,
      reason: "resourceVersion expired (410)",
    });
    // A relist is not an error: no backoff was taken.
    expect(events.filter((e) => e.kind === "watch-error")).toEqual([]);
    await cache.stop();
  });

  it("relists at once when the watch request itself answers 410", async () => {
    const stores = new InMemoryStores();
    const events: StoreCacheEvent[] = [];
    const cache = await started(stores, { events, selectors: [API_LABEL] });
    stores.write("jobs", "user--alice--secrets", { labels: apiLabels, data: data("late") }, true);
    stores.watcherOf(API_LABEL).fail(new KubeError(410, "watch: HTTP 410: too old resource version"));

    await waitFor(() => expect(stores.lists(API_LABEL)).toHaveLength(2));
    await waitFor(() => expect(stores.watchers.size).toBe(1));
    expect(keys(cache, "jobs", "user--alice--secrets")).toEqual(["late"]);
    expect(events.map((e) => e.kind)).toEqual(["synced", "relist", "synced"]);
    await cache.stop();
  });

  it("backs off after errors, doubling each time, and starts again from the first wait once a list succeeds", async () => {
    const stores = new InMemoryStores();
    stores.failListsIn.add("");
    const events: StoreCacheEvent[] = [];
    const cache = cacheOf(stores, { events, initialBackoffMs: 1, selectors: [API_LABEL] });
    cache.start();
    const waits = () => events.flatMap((e) => (e.kind === "watch-error" ? [e.retryInMs] : []));
    await waitFor(() => expect(waits().length).toBeGreaterThanOrEqual(5));
    expect(waits().slice(0, 5)).toEqual([1, 2, 4, 8, 16]);
    expect(cache.synced).toBe(false);
    expect(events.find((e) => e.kind === "watch-error")).toMatchObject({
      scope: "*",
      selector: API_LABEL,
      error: "connect ECONNREFUSED 127.0.0.1:1",
    });

    stores.failListsIn.clear();
    await waitFor(() => expect(cache.synced && stores.watchers.size === 1).toBe(true));
    events.length = 0;
    // A watch cut after a good list and watch: the wait starts from the first one again.
    stores.watcherOf(API_LABEL).end();
    await waitFor(() => expect(stores.watchers.size).toBe(1));
    stores.watcherOf(API_LABEL).fail(new Error("watch: the connection was cut\nsecond line"));
    await waitFor(() => expect(waits()).toHaveLength(1));
    expect(events[0]).toMatchObject({
      kind: "watch-error",
      error: "watch: the connection was cut",
      retryInMs: 1,
    });
    await cache.stop();
  });

  it("stop() wakes every loop sleeping in backoff, not only the last one", { timeout: 5_000 }, async () => {
    const stores = new InMemoryStores();
    stores.failListsIn.add("jobs-a").add("jobs-b");
    const events: StoreCacheEvent[] = [];
    // Far longer than the test may take: only a wake-up ends these sleeps in time.
    const cache = cacheOf(stores, { namespaces: ["jobs-a", "jobs-b"], events, initialBackoffMs: 60_000 });
    cache.start();
    await waitFor(() => expect(events.filter((e) => e.kind === "watch-error")).toHaveLength(4));
    expect(cache.synced).toBe(false);
    await cache.stop();
    expect(stores.lists(API_LABEL).length + stores.lists(PLATFORM_LABEL).length).toBe(4);
  });

  it("stop() ends every open watch", { timeout: 5_000 }, async () => {
    const stores = new InMemoryStores();
    const cache = await started(stores, { namespaces: ["jobs-a", "jobs-b"] });
    expect(stores.watchers.size).toBe(4);
    await cache.stop();
    expect(stores.watchers.size).toBe(0);
  });
});

describe("StoreCache namespaces option", () => {
  it("lists and watches only the given namespaces and is synced only when every one is", async () => {
    const stores = new InMemoryStores();
    stores.write("jobs-a", "user--alice--secrets", { labels: apiLabels, data: data("a") });
    stores.write("jobs-b", "user--bob--secrets", { labels: apiLabels, data: data("b") });
    stores.write("other", "user--carol--secrets", { labels: apiLabels, data: data("c") });
    stores.failListsIn.add("jobs-b");
    const cache = cacheOf(stores, { namespaces: ["jobs-a", "jobs-b"], initialBackoffMs: 1 });
    cache.start();
    await waitFor(() => expect(stores.watchers.size).toBe(2));
    expect(keys(cache, "jobs-a", "user--alice--secrets")).toEqual(["a"]);
    expect(cache.synced).toBe(false);

    stores.failListsIn.clear();
    await waitFor(() => expect(cache.synced).toBe(true));
    expect(keys(cache, "jobs-b", "user--bob--secrets")).toEqual(["b"]);
    stores.write("other", "user--dan--secrets", { labels: apiLabels, data: data("d") });
    expect(cache.keysOf("other", "user--carol--secrets")).toBeUndefined();
    expect(cache.keysOf("other", "user--dan--secrets")).toBeUndefined();
    const scopes = new Set(stores.calls.map((c) => c.namespace));
    expect([...scopes].sort()).toEqual(["jobs-a", "jobs-b"]);
    await cache.stop();
  });

  it("watches every namespace with one loop per selector when none are given", async () => {
    const stores = new InMemoryStores();
    stores.write("a", "user--alice--secrets", { labels: apiLabels, data: data("a") });
    stores.write("b", "user--bob--secrets", { labels: platformLabels, data: data("b") });
    const cache = await started(stores);
    expect(new Set(stores.calls.map((c) => c.namespace))).toEqual(new Set([""]));
    expect(keys(cache, "a", "user--alice--secrets")).toEqual(["a"]);
    expect(keys(cache, "b", "user--bob--secrets")).toEqual(["b"]);
    await cache.stop();
  });

  it("refuses no selectors or more than it can track", () => {
    const stores = new InMemoryStores();
    expect(() => cacheOf(stores, { selectors: [] })).toThrow("the store cache needs 1 to 30 label selectors");
    const many = Array.from({ length: 31 }, (_, i) => `l${i}`);
    expect(() => cacheOf(stores, { selectors: many })).toThrow("1 to 30");
  });
});
