// The secrets API as a real process (`apolo-secrets-webhook api`) for tests and the demo, and
// the users' tokens (service accounts alice and bob, as the platform's identity rule maps them).

import { randomBytes } from "node:crypto";
import { type Agent, request } from "node:https";
import { join } from "node:path";
import { issueCert } from "../support/certs.js";
import { type ControlPlane, kubectl } from "./control-plane.js";
import { type Managed, startOnFreePorts, startProcess, waitForReadyz } from "./processes.js";

export const API_NAMESPACE = "platform-jobs";
export const USERS_NAMESPACE = "apolo-users";
export const USERNAME_PREFIX = `system:serviceaccount:${USERS_NAMESPACE}:`;
const BIN = join(import.meta.dirname, "../../bin/apolo-secrets-webhook");

export interface SecretsApi {
  url: string;
  metricsPort: number;
  caFile: string;
  managed: Managed;
}

export async function startSecretsApi(
  plane: ControlPlane,
  namespace = API_NAMESPACE,
  env?: NodeJS.ProcessEnv,
  // The platform's own tokens name the user as is ("alice"): usernamePrefix "" serves them; a
  // second API of a run needs a process name of its own.
  options: { usernamePrefix?: string; name?: string } = {},
): Promise<SecretsApi> {
  const cert = issueCert(plane.ca, {
    name: "secrets-api",
    commonName: "secrets-api",
    ips: ["127.0.0.1"],
    usage: "server",
  });
  return startOnFreePorts(async ([port, metricsPort]) => {
    const managed = startProcess(plane.dir, plane.pidFile, {
      name: options.name ?? "secrets-api",
      command: BIN,
      args: [
        "api",
        "--bind-address=127.0.0.1",
        `--port=${port}`,
        `--metrics-port=${metricsPort}`,
        `--tls-cert-file=${cert.certFile}`,
        `--tls-key-file=${cert.keyFile}`,
        `--kubeconfig=${plane.kubeconfigs.api}`,
        `--namespace=${namespace}`,
        `--username-prefix=${options.usernamePrefix ?? USERNAME_PREFIX}`,
        "--shutdown-delay-ms=0",
      ],
      ...(env ? { env } : {}),
    });
    await waitForReadyz("secrets API ready", metricsPort, managed);
    return { url: `https://127.0.0.1:${port}`, metricsPort, caFile: plane.ca.certFile, managed };
  });
}

/** A bearer token of a platform user (a service account in the users' namespace). */
export function userToken(plane: ControlPlane, user: string): string {
  return kubectl(plane, "admin", ["create", "token", user, "-n", USERS_NAMESPACE, "--duration=1h"]).trim();
}

/** A new platform user for one test (a service account of its own) and its token. */
export function freshUser(plane: ControlPlane, prefix: string): { name: string; token: string } {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  kubectl(plane, "admin", ["create", "serviceaccount", name, "-n", USERS_NAMESPACE]);
  return { name, token: userToken(plane, name) };
}

/** POSTs one add over `agent`; the answer's status, or the connection error's code. */
export function postSecretStatus(
  url: string,
  agent: Agent,
  token: string,
  key: string,
  value: string,
): Promise<number | string> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ key, value });
    const req = request(
      new URL("/api/v1/secrets", url),
      {
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
    req.end(body);
  });
}
