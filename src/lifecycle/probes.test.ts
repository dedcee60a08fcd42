import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { listen } from "./listen.js";
import { probeAnswer, probeRoutes } from "./probes.js";

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function serveProbes(readiness: () => string[]): Promise<string> {
  const probes = probeRoutes(readiness);
  const server = createServer((request, response) =>
    probes(request, response, () => response.writeHead(404).end("next\n")),
  );
  servers.push(server);
  return `http://127.0.0.1:${await listen(server, "127.0.0.1", 0)}`;
}

describe("probe routes", () => {
  it("answers /healthz always, and /readyz 200 or 503 with the reasons", () => {
    const reasons: string[] = ["certificate not loaded", "shutting down"];
    expect(probeAnswer("GET", "/healthz", () => reasons)).toEqual({ status: 200, text: "ok\n" });
    expect(probeAnswer("GET", "/readyz?verbose", () => reasons)).toEqual({
      status: 503,
      text: "not ready: certificate not loaded, shutting down\n",
    });
    expect(probeAnswer("HEAD", "/readyz", () => [])).toEqual({ status: 200, text: "ok\n" });
  });

  it("leaves every other request to the next handler", () => {
    expect(probeAnswer("POST", "/readyz", () => [])).toBeUndefined();
    expect(probeAnswer("GET", "/readyz/x", () => [])).toBeUndefined();
    expect(probeAnswer("GET", "/metrics", () => [])).toBeUndefined();
    expect(probeAnswer("GET", undefined, () => [])).toBeUndefined();
  });

  it("serves over HTTP with a text answer and passes the rest on", async () => {
    let ready = false;
    const url = await serveProbes(() => (ready ? [] : ["store cache not synced"]));
    const before = await fetch(`${url}/readyz`);
    expect(before.status).toBe(503);
    expect(before.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await before.text()).toBe("not ready: store cache not synced\n");
    ready = true;
    expect(await (await fetch(`${url}/readyz`)).text()).toBe("ok\n");
    expect(await (await fetch(`${url}/other`)).text()).toBe("next\n");
  });

  it("a port that cannot be bound rejects naming the address", async () => {
    const url = await serveProbes(() => []);
    const port = Number(new URL(url).port);
    const second = createServer();
    await expect(listen(second, "127.0.0.1", port)).rejects.toThrow(
      `cannot listen on 127.0.0.1:${port}: listen EADDRINUSE`,
    );
  });
});
