// Unit test of the store cache's live lookup on a miss, against an in-memory double of its client
// interface (testing/store-double.ts: StoreClient, not the real API server).

import { describe, expect, it, vi } from "vitest";
import { StoreCache, type StoreCacheEvent } from "./store-cache.js";
import { apiLabels, data, InMemoryStores, platformLabels, SELECTORS } from "./testing/store-double.js";

const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 10_000, interval: 2 });

async function started(stores: InMemoryStores, events: StoreCacheEvent[] = [], lookupTimeoutMs = 10_000) {
  const cache = new StoreCache(stores, {
    namespaces: ["jobs"],
    labelSelectors: SELECTORS,
    lookupTimeoutMs,
    onEvent: (event) => events.push(event),
  });
  cache.start();
  await waitFor(() => expect(cache.synced && stores.watchers.size === SELECTORS.length).toBe(true));
  return cache;
}

/** A gate the double's lookups wait at, and its opener. */
function gate(stores: InMemoryStores): () => void {
  let open = () => {};
  stores.lookupGate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    stores.lookupGate = undefined;
    open();
  };
}

describe("StoreCache live lookup on a miss", () => {
  it("finds a labelled store the watch has not delivered yet, asking with the selectors", async () => {
    const stores = new InMemoryStores();
    const cache = await started(stores);
    stores.write("jobs", "user--alice--secrets", { labels: platformLabels, data: data("fresh") }, true);
    expect(cache.keysOf("jobs", "user--alice--secrets")).toBeUndefined();

    expect(await cache.refresh("jobs", "user--alice--secrets")).toBe("found");
    expect([...(cache.keysOf("jobs", "user--alice--secrets") ?? [])]).toEqual(["fresh"]);
    expect(stores.lookups()).toEqual(
      SELECTORS.map((labelSelector) => ({
        op: "list",
        namespace: "jobs",
        query: { labelSelector, name: "user--alice--secrets" },
      })),
    );
    await cache.stop();
  });

  it("forgets a store the watch still had when the lookup finds it gone", async () => {
    const stores = new InMemoryStores();
    stores.write("jobs", "user--alice--secrets", { labels: apiLabels, data: data("k") });
    const cache = await started(stores);
    stores.write("jobs", "user--alice--secrets", undefined, true);
    expect(cache.keysOf("jobs", "user--alice--secrets")).toBeDefined();
    expect(await cache.refresh("jobs", "user--alice--secrets")).toBe("absent");
    expect(cache.keysOf("jobs", "user--alice--secrets")).toBeUndefined();
    await cache.stop();
  });

  it("treats an unlabelled store as absent, reads only its metadata, and says it lacks the label", async () => {
    const stores = new InMemoryStores();
    const events: StoreCacheEvent[] = [];
    const cache = await started(stores, events);
    stores.write("jobs", "user--carol--secrets", { labels: {}, data: data("k") });

    expect(await cache.refresh("jobs", "user--carol--secrets")).toBe("absent");
    expect(cache.keysOf("jobs", "user--carol--secrets")).toBeUndefined();
    // The hint is looked up after the answer, off the admission's path.
    await waitFor(() =>
      expect(events).toContainEqual({
        kind: "unlabelled-store",
        namespace: "jobs",
        store: "user--carol--secrets",
      }),
    );
    expect(stores.calls.filter((c) => c.op === "get")).toEqual([
      { op: "get", namespace: "jobs", name: "user--carol--secrets" },
    ]);

    events.length = 0;
    expect(await cache.refresh("jobs", "user--nobody--secrets")).toBe("absent");
    await waitFor(() => expect(stores.calls.filter((c) => c.op === "get")).toHaveLength(2));
    await new Promise((resolve) => setImmediate(resolve));
    expect(events.filter((e) => e.kind === "unlabelled-store")).toEqual([]);
    await cache.stop();
  });

  it("shares one lookup among concurrent asks for the same store: one list per selector for all", async () => {
    const stores = new InMemoryStores();
    const cache = await started(stores);
    stores.write("jobs", "user--alice--secrets", { labels: apiLabels, data: data("k") }, true);
    const open = gate(stores);
    const asks = Array.from({ length: 20 }, () => cache.refresh("jobs", "user--alice--secrets"));
    const other = cache.refresh("jobs", "user--bob--secrets");
    open();
    expect(await Promise.all(asks)).toEqual(Array.from({ length: 20 }, () => "found"));
    expect(await other).toBe("absent");
    const named = (name: string) => stores.lookups().filter((c) => c.op === "list" && c.query.name === name);
    expect(named("user--alice--secrets")).toHaveLength(SELECTORS.length);
    expect(named("user--bob--secrets")).toHaveLength(SELECTORS.length);

    // Once answered, the next miss asks again (a shared lookup is not a cached answer).
    expect(await cache.refresh("jobs", "user--alice--secrets")).toBe("found");
    expect(named("user--alice--secrets")).toHaveLength(SELECTORS.length * 2);
    await cache.stop();
  });

  it("answers timeout when the API server does not answer within the lookup timeout", {
    timeout: 5_000,
  }, async () => {
    const stores = new InMemoryStores();
    const cache = await started(stores, [], 20);
    stores.write("jobs", "user--alice--secrets", { labels: apiLabels, data: data("k") }, true);
    const open = gate(stores);
    expect(await cache.refresh("jobs", "user--alice--secrets")).toBe("timeout");
    open();
    await cache.stop();
  });

  it("answers error when the lookup fails", async () => {
    const stores = new InMemoryStores();
    const cache = await started(stores);
    stores.failListsIn.add("jobs");
    expect(await cache.refresh("jobs", "user--alice--secrets")).toBe("error");
    stores.failListsIn.clear();
    await cache.stop();
  });
});
