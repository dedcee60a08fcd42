// Readiness waits for the HTTPS port itself, not only for the certificate that starts it: the
// listener says when it is bound (src/serving.ts makes that part of "certificate not loaded").

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CertifiedListener } from "../../src/server/https-server.js";
import { createCa, issueCert } from "../support/certs.js";

const dir = mkdtempSync(join(tmpdir(), "listening-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("CertifiedListener.listening", () => {
  it("is false without a certificate and until the port is bound, then true", async () => {
    const cert = issueCert(createCa(dir), {
      name: "s",
      commonName: "s",
      ips: ["127.0.0.1"],
      usage: "server",
    });
    let bound: (port: number) => void = () => undefined;
    const port = new Promise<number>((resolve) => {
      bound = resolve;
    });
    const listener = new CertifiedListener(
      (_request, response) => response.end(),
      { host: "127.0.0.1", port: 0, keepAliveTimeoutMs: 1_000 },
      (p) => bound(p),
      (error) => {
        throw error;
      },
    );
    expect(listener.listening).toBe(false);
    listener.use({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) });
    // Binding is asynchronous: the certificate is in, the port not yet.
    expect(listener.listening).toBe(false);
    expect(await port).toBeGreaterThan(0);
    expect(listener.listening).toBe(true);
    await listener.drain(1_000);
  });
});
