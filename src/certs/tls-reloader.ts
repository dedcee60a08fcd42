// The serving certificate from files, checked before use and reloaded like every file source
// (see file-reloader.ts).

import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";
import { FileReloader } from "./file-reloader.js";

export interface LoadedCertificate {
  cert: Buffer;
  key: Buffer;
  notAfter: Date;
}

export interface TlsReloaderEvents {
  onLoad(certificate: LoadedCertificate): void;
  onReject(error: unknown): void;
}

/** Checks a certificate/key pair; throws with a clear message when they do not form one. */
export function checkCertificatePair(cert: Buffer, key: Buffer, source: string): LoadedCertificate {
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new Error(`the certificate and key from ${source} do not form a usable pair: ${String(error)}`);
  }
  const notAfter = new Date(new X509Certificate(cert).validTo);
  return { cert, key, notAfter };
}

/** Reads and checks a certificate/key pair from files. */
export async function readCertificate(certFile: string, keyFile: string): Promise<LoadedCertificate> {
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  return checkCertificatePair(cert, key, `${certFile} and ${keyFile}`);
}

export class TlsReloader extends FileReloader<LoadedCertificate> {
  constructor(certFile: string, keyFile: string, intervalMs: number, events: TlsReloaderEvents) {
    super(
      [certFile, keyFile],
      () => readCertificate(certFile, keyFile),
      (a, b) => a.cert.equals(b.cert) && a.key.equals(b.key),
      intervalMs,
      events,
    );
  }
}
