// A stub of the platform's configuration endpoint, `GET {API_URL}/config`, which the apolo CLI
// reads at `apolo config login-with-token TOKEN API_URL` (parsed by apolo_sdk/_server_cfg.py):
// the login settings the parser requires, `authorized: true` when a bearer token is sent, and one
// cluster whose `secrets_url` is our secrets API. Every other URL in it points back at this stub
// and is never called by the secret commands. Loopback HTTPS with a certificate of the test CA.

import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { issueCert, type TestCa } from "../support/certs.js";

export const PLATFORM_CLUSTER = "default";
export const PLATFORM_ORG = "apolo";
export const PLATFORM_PROJECT = "ml-team";

export interface PlatformConfigStub {
  /** The API URL to log in to: https://127.0.0.1:PORT/api/v1 (the CLI asks {url}/config). */
  url: string;
  close(): Promise<void>;
}

/** The JSON the platform answers at /config: the login settings, then the caller's clusters and projects. */
export function platformConfig(base: string, secretsUrl: string, authorized: boolean): object {
  const login = {
    auth_url: `${base}/oauth/authorize`,
    token_url: `${base}/oauth/token`,
    logout_url: `${base}/oauth/logout`,
    headless_callback_url: `${base}/oauth/show-code`,
    client_id: "apolo-cli",
    audience: "https://platform.apolo.test",
  };
  if (!authorized) return { ...login, authorized: false };
  const unused = (service: string) => `${base}/unused/${service}`;
  return {
    ...login,
    authorized: true,
    clusters: [
      {
        name: PLATFORM_CLUSTER,
        orgs: [PLATFORM_ORG],
        secrets_url: secretsUrl,
        registry_url: unused("registry"),
        storage_url: unused("storage"),
        users_url: unused("users"),
        monitoring_url: unused("monitoring"),
        disks_url: unused("disks"),
        buckets_url: unused("buckets"),
        resource_pool_types: [],
        resource_presets: [],
      },
    ],
    projects: [
      { name: PLATFORM_PROJECT, cluster_name: PLATFORM_CLUSTER, org_name: PLATFORM_ORG, role: "writer" },
    ],
  };
}

/**
 * Starts the stub on a free loopback port. Like the platform, it answers `authorized: true` only
 * with a bearer token; unlike it, it does not check the token: the secrets API (through the API
 * server's TokenReview) is what a test's token has to convince.
 */
export async function startPlatformConfig(ca: TestCa, secretsUrl: string): Promise<PlatformConfigStub> {
  const cert = issueCert(ca, {
    name: "platform-config",
    commonName: "platform-config",
    ips: ["127.0.0.1"],
    usage: "server",
  });
  let base = "";
  const server: Server = createServer(
    { cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) },
    (request, response) => {
      if (request.method !== "GET" || request.url !== "/api/v1/config") {
        response.writeHead(404, { "content-type": "application/json" });
        response.end('{"error":"not found: this stub serves GET /api/v1/config"}');
        return;
      }
      const authorized = (request.headers.authorization ?? "").startsWith("Bearer ");
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(platformConfig(base, secretsUrl, authorized)));
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  server.unref();
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/api/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
