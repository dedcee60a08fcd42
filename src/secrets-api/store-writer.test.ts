// The store writer's edit logic: keys are users' names, so names like "__proto__" or
// "hasOwnProperty" must be stored, listed and removed as data, never treated as object
// properties. A unit test: the double below holds one namespace's Secrets the way the API server
// sends them (JSON text in, JSON text out, a resourceVersion per write); the e2e suite proves the
// same against the real API server.

import { describe, expect, it } from "vitest";
import { KubeError } from "../kube/api-client.js";
import { isStoreFullMessage, StoreWriter, type StoreWriterClient } from "./store-writer.js";

const BUILT_IN_NAMES = ["__proto__", "constructor", "hasOwnProperty", "toString", "valueOf"];

/** Secrets of one namespace, kept as the JSON text the API server would store. */
class SecretsDouble implements StoreWriterClient {
  readonly stored = new Map<string, string>();
  writes = 0;
  #version = 1;

  async request<T>(method: string, path: string, options: { body?: unknown } = {}): Promise<T> {
    const name = decodeURIComponent(path.slice(path.lastIndexOf("/") + 1));
    if (method === "GET") {
      const text = this.stored.get(name);
      if (text === undefined) throw new KubeError(404, `secrets "${name}" not found`);
      return JSON.parse(text) as T;
    }
    const text = JSON.stringify(options.body);
    const body = JSON.parse(text) as { metadata: { name: string; resourceVersion?: string } };
    if (method === "POST") {
      if (this.stored.has(body.metadata.name)) throw new KubeError(409, "already exists");
    } else if (method === "PUT") {
      const current = this.stored.get(name);
      if (current === undefined) throw new KubeError(404, "not found");
      const version = (JSON.parse(current) as typeof body).metadata.resourceVersion;
      if (version !== body.metadata.resourceVersion) throw new KubeError(409, "conflict");
    } else {
      throw new Error(`unexpected ${method}`);
    }
    body.metadata.resourceVersion = String(++this.#version);
    this.stored.set(body.metadata.name, JSON.stringify(body));
    this.writes++;
    return body as T;
  }

  /** The stored data's own key names, as the API server would return them. */
  keys(name: string): string[] {
    const text = this.stored.get(name);
    if (text === undefined) return [];
    return Object.keys((JSON.parse(text) as { data?: object }).data ?? {}).sort();
  }
}

function writer(): { store: StoreWriter; api: SecretsDouble } {
  const api = new SecretsDouble();
  return { store: new StoreWriter(api, "jobs"), api };
}

describe("StoreWriter with names of built-in object properties", () => {
  it.each(BUILT_IN_NAMES)("stores, lists and removes a key named %s", async (key) => {
    const { store, api } = writer();
    await store.put("user--alice--secrets", key, "dmFsdWU=");
    await store.put("user--alice--secrets", "plain", "eA==");
    expect(api.keys("user--alice--secrets")).toEqual([key, "plain"].sort());
    const text = api.stored.get("user--alice--secrets") as string;
    expect(text).toContain(`${JSON.stringify(key)}:"dmFsdWU="`);
    expect(await store.list("user--alice--secrets")).toEqual([key, "plain"].sort());
    expect(await store.remove("user--alice--secrets", key)).toBe(true);
    expect(api.keys("user--alice--secrets")).toEqual(["plain"]);
  });

  it.each(BUILT_IN_NAMES)("answers false and writes nothing when removing a never-added %s", async (key) => {
    const { store, api } = writer();
    await store.put("user--alice--secrets", "plain", "eA==");
    const before = api.stored.get("user--alice--secrets");
    const writes = api.writes;
    expect(await store.remove("user--alice--secrets", key)).toBe(false);
    expect(api.writes).toBe(writes);
    expect(api.stored.get("user--alice--secrets")).toBe(before);
  });

  it("creates a store whose first key is __proto__", async () => {
    const { store, api } = writer();
    await store.put("user--bob--secrets", "__proto__", "eA==");
    expect(api.keys("user--bob--secrets")).toEqual(["__proto__"]);
    expect(await store.list("user--bob--secrets")).toEqual(["__proto__"]);
  });

  it("overwrites an existing __proto__ key with the new value", async () => {
    const { store, api } = writer();
    await store.put("user--alice--secrets", "__proto__", "eA==");
    await store.put("user--alice--secrets", "__proto__", "eQ==");
    expect(api.stored.get("user--alice--secrets")).toContain('"__proto__":"eQ=="');
  });
});

describe("isStoreFullMessage", () => {
  it("recognises the API server's answers for a Secret over 1 MiB", () => {
    expect(
      isStoreFullMessage(
        'Secret "user--a--secrets" is invalid: data: Too long: may not be more than 1048576 bytes',
      ),
    ).toBe(true);
    expect(isStoreFullMessage("data: Invalid value: must have at most 1048576 bytes")).toBe(true);
    expect(isStoreFullMessage("AT MOST 12 BYTES")).toBe(true);
  });

  it("does not mistake other refusals for a full store", () => {
    expect(isStoreFullMessage("metadata.name: Invalid value: must be no more than 253 characters")).toBe(
      false,
    );
    expect(isStoreFullMessage("at most bytes")).toBe(false);
    expect(isStoreFullMessage("at most 12bytes")).toBe(false);
    expect(isStoreFullMessage("")).toBe(false);
  });

  it("reads an adversarial long message in one pass", () => {
    const long = `${"at most 1".repeat(200_000)}${"9".repeat(1_000_000)} byte`;
    expect(isStoreFullMessage(long)).toBe(false);
    expect(isStoreFullMessage(`${long} at most 5 bytes`)).toBe(true);
  });
});
