// The CA bundle that issues the API server's client certificate, from a file (a ConfigMap or
// Secret volume), checked before use and reloaded like the serving certificate.

import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";
import { FileReloader, type FileReloaderEvents } from "./file-reloader.js";

const BEGIN = "-----BEGIN CERTIFICATE-----";
const END = "-----END CERTIFICATE-----";

/** Checks a PEM bundle of CA certificates; throws naming the file and the problem. */
export function checkClientCa(pem: Buffer, source: string): { pem: Buffer; count: number } {
  const text = pem.toString("utf8");
  let count = 0;
  // indexOf scans: linear in the file's size whatever it holds.
  for (let at = text.indexOf(BEGIN); at !== -1; at = text.indexOf(BEGIN, at + BEGIN.length)) {
    const end = text.indexOf(END, at);
    if (end === -1) throw new Error(`${source}: certificate ${count + 1} has no '${END}' line`);
    try {
      new X509Certificate(text.slice(at, end + END.length));
    } catch (error) {
      throw new Error(
        `${source}: certificate ${count + 1} is not a valid X.509 certificate: ${String(error)}`,
      );
    }
    count++;
  }
  if (count === 0)
    throw new Error(
      `${source} holds no PEM certificate ('${BEGIN}'): expected the CA of the API server's client certificate`,
    );
  try {
    createSecureContext({ ca: pem });
  } catch (error) {
    throw new Error(`${source} cannot be used as a CA bundle: ${String(error)}`);
  }
  return { pem, count };
}

export class ClientCaReloader extends FileReloader<{ pem: Buffer; count: number }> {
  constructor(file: string, intervalMs: number, events: FileReloaderEvents<{ pem: Buffer; count: number }>) {
    super(
      [file],
      async () => checkClientCa(await readFile(file), file),
      (a, b) => a.pem.equals(b.pem),
      intervalMs,
      events,
    );
  }
}
