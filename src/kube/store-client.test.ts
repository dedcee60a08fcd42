// storeClientOf: each StoreClient call becomes the one request it should, checked against a
// recording double of the KubeClient's request/watch (the real API server: test/e2e).

import { describe, expect, it } from "vitest";
import { KubeError, type RequestOptions } from "./api-client.js";
import { fieldValue, type StoreRequests, storeClientOf } from "./store-client.js";

interface Sent {
  method: string;
  path: string;
  options: RequestOptions | undefined;
}

function recording(answer: (sent: Sent) => unknown): { api: StoreRequests; sent: Sent[] } {
  const sent: Sent[] = [];
  const api: StoreRequests = {
    request: async <T>(method: string, path: string, options?: RequestOptions) => {
      const one = { method, path, options };
      sent.push(one);
      return answer(one) as T;
    },
    watch: async (path, query) => {
      sent.push({ method: "WATCH", path, options: { query } });
    },
  };
  return { api, sent };
}

describe("storeClientOf", () => {
  it("lists one namespace or all, with the selector, page size and continue token", async () => {
    const { api, sent } = recording(() => ({ items: [] }));
    const client = storeClientOf(api);
    await client.list("", { labelSelector: "a=b", limit: 100 }, 60_000);
    await client.list("jobs", { labelSelector: "a=b", limit: 100, continue: "tok" }, 60_000);
    expect(sent.map((s) => [s.method, s.path, s.options?.query, s.options?.timeoutMs])).toEqual([
      ["GET", "/api/v1/secrets", { labelSelector: "a=b", limit: 100 }, 60_000],
      [
        "GET",
        "/api/v1/namespaces/jobs/secrets",
        { labelSelector: "a=b", limit: 100, continue: "tok" },
        60_000,
      ],
    ]);
  });

  it("asks for one name with an escaped field selector", async () => {
    const { api, sent } = recording(() => ({ items: [] }));
    await storeClientOf(api).list(
      "jobs",
      { labelSelector: "a", name: "user--a,metadata.namespace=x--secrets" },
      5,
    );
    expect(sent[0]?.options?.query?.fieldSelector).toBe(
      "metadata.name=user--a\\,metadata.namespace\\=x--secrets",
    );
    expect(fieldValue("a\\b")).toBe("a\\\\b");
  });

  it("watches with bookmarks from the given version", async () => {
    const { api, sent } = recording(() => ({}));
    const query = { labelSelector: "a", resourceVersion: "7", timeoutSeconds: 50 };
    await storeClientOf(api).watch("jobs", query, () => {}, new AbortController().signal);
    expect(sent).toEqual([
      {
        method: "WATCH",
        path: "/api/v1/namespaces/jobs/secrets",
        options: { query: { ...query, allowWatchBookmarks: true } },
      },
    ]);
  });

  it("reads one Secret's metadata only, path-encoded; a 404 is undefined, other errors stay errors", async () => {
    const { api, sent } = recording((s) => {
      if (s.path.endsWith("/missing")) throw new KubeError(404, "GET: HTTP 404");
      if (s.path.endsWith("/broken")) throw new KubeError(500, "GET: HTTP 500");
      return { metadata: { name: "a b" } };
    });
    const client = storeClientOf(api);
    expect(await client.get("jobs", "a b", 5)).toEqual({ metadata: { name: "a b" } });
    expect(sent[0]?.path).toBe("/api/v1/namespaces/jobs/secrets/a%20b");
    expect(sent[0]?.options?.accept).toContain("as=PartialObjectMetadata");
    expect(await client.get("jobs", "missing", 5)).toBeUndefined();
    await expect(client.get("jobs", "broken", 5)).rejects.toThrow("HTTP 500");
  });
});
