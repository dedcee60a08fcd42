import { X509Certificate } from "node:crypto";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Counter, Gauge, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { KubeClient } from "../kube/api-client.js";
import { createLogger } from "../lifecycle/logger.js";
import { startServingCertificate } from "./serving-certificate.js";
import type { LoadedCertificate } from "./tls-reloader.js";
import { issueCa, issueServing, type KeyPair } from "./x509.js";

const DAY = 86_400_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function pair(name: string): Promise<KeyPair> {
  const ca = await issueCa(`${name} CA`, new Date(), DAY);
  return issueServing(ca, { commonName: name, dnsNames: [name], ipAddresses: [] }, new Date(), DAY);
}

/** Replaces a file whole (a poll never sees it half-written). */
function replace(file: string, text: string): void {
  writeFileSync(`${file}.new`, text);
  renameSync(`${file}.new`, file);
}

/** Resolves when `condition` holds, checked on every event the source reports. */
function eventually(events: { wake: () => void }, condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const previous = events.wake;
    events.wake = () => {
      previous();
      if (condition()) resolve();
    };
    if (condition()) resolve();
  });
}

describe("startServingCertificate from files", () => {
  it("uses each new valid pair, keeps the current one when a replacement is broken, and counts both", async () => {
    const dir = mkdtempSync(join(tmpdir(), "serving-certificate-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const certFile = join(dir, "tls.crt");
    const keyFile = join(dir, "tls.key");
    const first = await pair("first.test");
    const second = await pair("second.test");
    writeFileSync(certFile, first.certPem);
    writeFileSync(keyFile, first.keyPem);

    const registry = new Registry();
    const tlsReloads = new Counter({
      name: "r",
      help: "h",
      labelNames: ["result"] as const,
      registers: [registry],
    });
    const certificateExpiry = new Gauge({ name: "e", help: "h", registers: [registry] });
    const events = { wake: () => {} };
    const warnings: string[] = [];
    const logger = createLogger("debug", (line) => {
      const entry = JSON.parse(line) as { level: string; error?: string };
      if (entry.level === "warn") warnings.push(entry.error ?? "");
      events.wake();
    });
    const used: LoadedCertificate[] = [];
    const settings = {
      tlsCertFile: certFile,
      tlsKeyFile: keyFile,
      tlsSecret: undefined,
      tlsReloadIntervalMs: 10,
      certificates: undefined,
    };
    // Files need no API server: the client is never called.
    const stop = await startServingCertificate(
      settings,
      {} as KubeClient,
      logger,
      { tlsReloads, certificateExpiry },
      (c) => {
        used.push(c);
        events.wake();
      },
    );
    cleanups.push(stop);
    expect(used.map((c) => c.cert.toString())).toEqual([first.certPem]);
    expect((await certificateExpiry.get()).values[0]?.value).toBe(
      new Date(new X509Certificate(first.certPem).validTo).getTime() / 1000,
    );

    // A key that does not match the certificate: rejected, the first pair stays in use.
    replace(keyFile, second.keyPem);
    await eventually(events, () => warnings.length > 0);
    expect(warnings[0]).toContain(
      `the certificate and key from ${certFile} and ${keyFile} do not form a usable pair`,
    );

    replace(certFile, second.certPem);
    await eventually(events, () => used.length === 2);
    expect(used[1]?.cert.toString()).toBe(second.certPem);
    const counts = Object.fromEntries((await tlsReloads.get()).values.map((v) => [v.labels.result, v.value]));
    // One rejected load for the broken pair, one loaded for each good one.
    expect(counts).toEqual({ loaded: 2, rejected: 1 });
    expect(warnings).toHaveLength(1);
  });
});
