// The platform's identity provider, in small, for the test control plane: OpenID Connect
// discovery and a JWKS over HTTPS on loopback (the test CA), and ES256 tokens that carry the user
// name in the platform's claim. The apolo CLI reads that claim (unverified) to know who it is;
// kube-apiserver is told to trust this issuer with the same claim as user name
// (--authentication-config), so the secrets API's TokenReview accepts the platform's own tokens
// and sees `alice`, with no code of ours in between. Tokens are signed in-process with the key
// file, so tests (in other processes) mint them without asking the provider.

import { execFile } from "node:child_process";
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { issueCert, type TestCa } from "../support/certs.js";
import { waitFor } from "./processes.js";

/** Where the platform's tokens carry the user name (apolo_sdk/_login.py reads it, or `identity`). */
export const PLATFORM_USER_CLAIM = "https://platform.neuromation.io/user";
/** The audience of the test platform's tokens (kube-apiserver accepts only this one). */
export const PLATFORM_AUDIENCE = "https://platform.apolo.test";

/** Plain data: crosses from the test runner's setup to the test workers. */
export interface IdentityProvider {
  /** https://127.0.0.1:PORT, the tokens' `iss` and the discovery document's `issuer`. */
  issuer: string;
  audience: string;
  keyId: string;
  /** PKCS#8 PEM of the ES256 signing key (0600, in the cluster folder). */
  signingKeyFile: string;
}

const servers = new Map<string, Server>();

/** Starts the provider on a free loopback port; stopIdentityProvider stops it. */
export async function startIdentityProvider(certsDir: string, ca: TestCa): Promise<IdentityProvider> {
  const serving = issueCert(ca, {
    name: "identity-provider",
    commonName: "identity-provider",
    ips: ["127.0.0.1"],
    usage: "server",
  });
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const signingKeyFile = join(certsDir, "identity-provider-signing.key");
  writeFileSync(signingKeyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  const keyId = randomBytes(8).toString("hex");
  const jwks = JSON.stringify({
    keys: [{ ...publicKey.export({ format: "jwk" }), kid: keyId, use: "sig", alg: "ES256" }],
  });
  // Path → JSON document; the discovery document names the port, known once listening.
  const documents = new Map<string, string>([["/keys", jwks]]);
  const server = createServer(
    { cert: readFileSync(serving.certFile), key: readFileSync(serving.keyFile) },
    (request, response) => {
      const body = request.method === "GET" ? documents.get(request.url ?? "") : undefined;
      response.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" });
      response.end(body ?? '{"error":"not found"}');
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  // Only the cluster's own processes call it: it must not keep the test runner alive.
  server.unref();
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  documents.set(
    "/.well-known/openid-configuration",
    JSON.stringify({
      issuer,
      jwks_uri: `${issuer}/keys`,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256"],
    }),
  );
  servers.set(issuer, server);
  return { issuer, audience: PLATFORM_AUDIENCE, keyId, signingKeyFile };
}

export async function stopIdentityProvider(provider: IdentityProvider): Promise<void> {
  const server = servers.get(provider.issuer);
  servers.delete(provider.issuer);
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * kube-apiserver's AuthenticationConfiguration: one JWT authenticator for this issuer, the user
 * name taken as is from the platform's claim (prefix "": `alice`, as the platform names her).
 * Client certificates and service-account tokens keep working beside it; the --oidc-* flags may
 * not be combined with this file. With no prefix, a claim could name a service account or a trusted
 * user (`system:...`): the validation rule refuses such names.
 */
export function authenticationConfiguration(provider: IdentityProvider, caPem: string): string {
  const indentedCa = caPem
    .trim()
    .split("\n")
    .map((line) => `      ${line}`)
    .join("\n");
  return `apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: ${provider.issuer}
    audiences: ["${provider.audience}"]
    certificateAuthority: |
${indentedCa}
  claimMappings:
    username:
      claim: "${PLATFORM_USER_CLAIM}"
      prefix: ""
  userValidationRules:
  - expression: "!user.username.startsWith('system:')"
    message: "platform user names may not start with system:"
`;
}

export interface TokenOptions {
  /** Seconds until `exp`; default one hour. */
  ttlSeconds?: number;
  /** Sign with this PKCS#8 PEM key instead of the provider's (a forged token). */
  signingKeyPem?: string;
}

/** A platform token for `user`: an ES256 JWT with iss, aud, sub, iat, exp and the platform's claim. */
export function platformToken(provider: IdentityProvider, user: string, options: TokenOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "ES256", typ: "JWT", kid: provider.keyId };
  const claims = {
    iss: provider.issuer,
    aud: provider.audience,
    sub: user,
    iat: now,
    exp: now + (options.ttlSeconds ?? 3600),
    [PLATFORM_USER_CLAIM]: user,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const key = createPrivateKey(options.signingKeyPem ?? readFileSync(provider.signingKeyFile, "utf8"));
  // JWS ES256 is the raw r||s pair, not DER (RFC 7518 section 3.4).
  const signature = sign("sha256", Buffer.from(signingInput), { key, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${signature.toString("base64url")}`;
}

/**
 * Waits until the API server authenticates a platform token (a TokenReview as the admin): it
 * reads the provider's keys in the background after it starts. Asynchronous on purpose: the
 * provider may live in this very process and must be free to answer meanwhile.
 */
export async function waitForPlatformTokens(
  kubectl: string,
  adminKubeconfig: string,
  provider: IdentityProvider,
): Promise<void> {
  const review = JSON.stringify({
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenReview",
    spec: { token: platformToken(provider, "token-probe", { ttlSeconds: 300 }) },
  });
  let last = "";
  await waitFor(
    "the API server to accept the platform's tokens",
    async () => {
      const out = await new Promise<string>((resolve, reject) => {
        const child = execFile(
          kubectl,
          ["--kubeconfig", adminKubeconfig, "create", "-f", "-", "-o", "json"],
          { timeout: 10_000 },
          (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(stdout)),
        );
        child.stdin?.end(review);
      });
      const status = (
        JSON.parse(out) as { status?: { authenticated?: boolean; user?: { username?: string } } }
      ).status;
      last = JSON.stringify(status ?? {});
      return status?.authenticated === true && status.user?.username === "token-probe" ? true : undefined;
    },
    60_000,
    250,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)} (last TokenReview status: ${last})`);
  });
}

/** A P-256 key no one trusts, for forged tokens. */
export function strangerKeyPem(): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

function base64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}
