// Certificate authority and serving certificates, made in process with WebCrypto (ECDSA P-256)
// so the webhook needs neither cert-manager nor an install hook to have working TLS.

import "reflect-metadata"; // @peculiar/x509 resolves its services through tsyringe, which needs it
import { createPrivateKey, X509Certificate as NodeX509, type webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
// Certificates start a little in the past: clocks across a cluster are never exactly in step.
const BACKDATE_MS = 5 * 60_000;

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

function serial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive
  return Buffer.from(bytes).toString("hex");
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey("pkcs8", key));
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" })
    .export({ format: "pem", type: "pkcs8" })
    .toString();
}

async function importKey(pem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(pem).export({ format: "der", type: "pkcs8" });
  return crypto.subtle.importKey("pkcs8", der, ALGORITHM, true, ["sign"]);
}

export async function issueCa(commonName: string, now: Date, validityMs: number): Promise<KeyPair> {
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + validityMs),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportKey(keys.privateKey) };
}

export interface ServingRequest {
  commonName: string;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
}

export async function issueServing(
  ca: KeyPair,
  request: ServingRequest,
  now: Date,
  validityMs: number,
): Promise<KeyPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const names = [
    ...request.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...request.ipAddresses.map((value) => ({ type: "ip" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${request.commonName}`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(Math.min(now.getTime() + validityMs, caCert.notAfter.getTime())),
    signingKey: await importKey(ca.keyPem),
    publicKey: keys.publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportKey(keys.privateKey) };
}

/** What the rotation plan needs to know about a certificate. */
export interface CertFacts {
  notBefore: Date;
  notAfter: Date;
  fingerprint: string;
  /** Sorted "DNS:x" / "IP:y" entries. */
  subjectAltNames: string[];
  isCa: boolean;
}

const IP_ADDRESS = "IP Address:";
const PEM_BEGIN = "-----BEGIN CERTIFICATE-----";
const PEM_END = "-----END CERTIFICATE-----";

export function certFacts(pem: string): CertFacts {
  const cert = new NodeX509(pem);
  const sans = (cert.subjectAltName ?? "")
    .split(",")
    .map((s) => s.trim())
    .map((s) => (s.startsWith(IP_ADDRESS) ? `IP:${s.slice(IP_ADDRESS.length)}` : s))
    .filter((s) => s !== "")
    .sort();
  return {
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerprint: cert.fingerprint256,
    subjectAltNames: sans,
    isCa: cert.ca,
  };
}

/** Splits a PEM bundle into its certificates. */
export function splitBundle(bundle: string): string[] {
  const certificates: string[] = [];
  let at = bundle.indexOf(PEM_BEGIN);
  while (at >= 0) {
    // At least one character between the markers; the first END after it closes the block.
    const end = bundle.indexOf(PEM_END, at + PEM_BEGIN.length + 1);
    if (end < 0) break;
    certificates.push(bundle.slice(at, end + PEM_END.length));
    at = bundle.indexOf(PEM_BEGIN, end + PEM_END.length);
  }
  return certificates;
}

/** Does `caPem` sign `certPem`, and does `keyPem` belong to `certPem`? */
export function signedBy(certPem: string, caPem: string): boolean {
  try {
    return new NodeX509(certPem).verify(new NodeX509(caPem).publicKey);
  } catch {
    return false;
  }
}

export function keyMatches(certPem: string, keyPem: string): boolean {
  try {
    return new NodeX509(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}
