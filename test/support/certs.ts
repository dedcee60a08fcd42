// A throwaway certificate authority for tests, made with the openssl command line: serving
// certificates for 127.0.0.1 and client certificates whose O= fields are Kubernetes groups.

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCa {
  dir: string;
  certFile: string;
  keyFile: string;
  pem: string;
}

export interface IssuedCert {
  certFile: string;
  keyFile: string;
}

function openssl(args: string[]): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(
      `openssl ${args[0]} failed (is openssl installed? 'make prerequisites' installs it): ${stderr}`,
    );
  }
}

export function createCa(dir: string, name = "apolo-test-ca", days = 2): TestCa {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile]);
  openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    keyFile,
    "-sha256",
    "-days",
    String(days),
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-out",
    certFile,
  ]);
  return { dir, certFile, keyFile, pem: readFileSync(certFile, "utf8") };
}

export interface CertRequest {
  name: string;
  commonName: string;
  /** Kubernetes groups of a client certificate. */
  organizations?: string[];
  ips?: string[];
  dnsNames?: string[];
  usage: "server" | "client";
  days?: number;
}

export function issueCert(ca: TestCa, request: CertRequest): IssuedCert {
  const certFile = join(ca.dir, `${request.name}.crt`);
  const keyFile = join(ca.dir, `${request.name}.key`);
  const csrFile = join(ca.dir, `${request.name}.csr`);
  const extFile = join(ca.dir, `${request.name}.ext`);
  const subject = `${(request.organizations ?? []).map((o) => `/O=${o}`).join("")}/CN=${request.commonName}`;
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile]);
  openssl(["req", "-new", "-key", keyFile, "-subj", subject, "-out", csrFile]);
  const sans = [
    ...(request.ips ?? []).map((ip) => `IP:${ip}`),
    ...(request.dnsNames ?? []).map((d) => `DNS:${d}`),
  ];
  const lines = [
    "basicConstraints=CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage=${request.usage === "server" ? "serverAuth" : "clientAuth"}`,
    ...(sans.length > 0 ? [`subjectAltName=${sans.join(",")}`] : []),
  ];
  writeFileSync(extFile, `${lines.join("\n")}\n`);
  openssl([
    "x509",
    "-req",
    "-in",
    csrFile,
    "-CA",
    ca.certFile,
    "-CAkey",
    ca.keyFile,
    "-CAcreateserial",
    "-days",
    String(request.days ?? 2),
    "-sha256",
    "-extfile",
    extFile,
    "-out",
    certFile,
  ]);
  return { certFile, keyFile };
}
