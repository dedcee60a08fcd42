#!/usr/bin/env node
// `apolo-secret`: add, list and remove the caller's (or a project's) secrets through the secrets
// API, in the wire format the platform's `apolo` CLI speaks. Values go from the command line or a
// file straight to the server (binary-safe); nothing reads them back.

import { readFileSync } from "node:fs";
import { request } from "node:https";
import { homedir } from "node:os";
import { ConfigError, parseSecretCommand, type SecretCliConfig, secretCliHelp } from "../config.js";
import { kubeconfigAccess } from "../kube/api-client.js";

class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The current kubeconfig user's bearer token, read by the kubeconfig reader the servers use. */
function kubeconfigToken(file: string | undefined): { token: string } | { problem: string } {
  try {
    const token = kubeconfigAccess(file ?? `${homedir()}/.kube/config`).token?.();
    return token ? { token } : { problem: "its current user has no token" };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

function call(
  config: SecretCliConfig,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  if (!config.server) throw new CliError(3, "no server: pass --server URL or set APOLO_SECRETS_SERVER");
  const fromKubeconfig = config.token ? { token: config.token } : kubeconfigToken(config.kubeconfig);
  if ("problem" in fromKubeconfig)
    throw new CliError(
      3,
      `no credentials: pass --token, set APOLO_SECRETS_TOKEN, or use a kubeconfig whose user has a token (kubeconfig: ${fromKubeconfig.problem})`,
    );
  const { token } = fromKubeconfig;
  let ca: Buffer | undefined;
  if (config.caFile) {
    try {
      ca = readFileSync(config.caFile);
    } catch {
      throw new CliError(2, `cannot read the CA file '${config.caFile}'`);
    }
  }
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, config.server),
      {
        method,
        ...(ca ? { ca } : {}),
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(payload ? { "content-type": "application/json" } : {}),
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = { error: text.slice(0, 200) };
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer in 30 s")));
    req.on("error", (error) => reject(new CliError(3, `cannot reach ${config.server}: ${error.message}`)));
    req.end(payload);
  });
}

/** A field of a JSON object in the answer, only when it has it itself (never an inherited one). */
function field(json: unknown, name: string): unknown {
  // Anything but a JSON object (null, a list, a string) carries no fields we read.
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  return Object.hasOwn(json, name) ? (json as Record<string, unknown>)[name] : undefined;
}

/** `?org_name=&project_name=` for the names given (none: no query). */
function placementQuery(config: SecretCliConfig): string {
  const query = new URLSearchParams();
  if (config.org) query.set("org_name", config.org);
  if (config.project) query.set("project_name", config.project);
  const text = query.toString();
  return text ? `?${text}` : "";
}

function refused(status: number, json: unknown): never {
  const error = field(json, "error");
  const message = typeof error === "string" ? error : `HTTP ${status}`;
  const hint = status === 401 ? " (check your token)" : "";
  throw new CliError(status === 401 ? 3 : 1, `${message}${hint}`);
}

async function run(config: SecretCliConfig, out: (text: string) => void): Promise<void> {
  switch (config.action) {
    case "help":
      out(secretCliHelp());
      return;
    case "add": {
      let bytes: Buffer;
      if (config.value && "file" in config.value) {
        try {
          bytes = readFileSync(config.value.file);
        } catch {
          throw new CliError(2, `cannot read '${config.value.file}'`);
        }
      } else {
        bytes = Buffer.from(config.value?.literal ?? "", "utf8");
      }
      const answer = await call(config, "POST", "/api/v1/secrets", {
        key: config.key,
        value: bytes.toString("base64"),
        org_name: config.org ?? null,
        project_name: config.project ?? null,
      });
      if (answer.status !== 201) refused(answer.status, answer.json);
      out(`added secret '${config.key}' (${bytes.length} bytes)\n`);
      return;
    }
    case "ls": {
      const answer = await call(config, "GET", `/api/v1/secrets${placementQuery(config)}`);
      if (answer.status !== 200) refused(answer.status, answer.json);
      // A JSON array of {"key", "org_name", "project_name", "owner"}: the names are all we print.
      const entries: unknown[] = Array.isArray(answer.json) ? answer.json : [];
      const keys = entries.flatMap((entry) => {
        const key = field(entry, "key");
        return typeof key === "string" ? [key] : [];
      });
      out(`KEY\n${keys.map((k) => `${k}\n`).join("")}`);
      return;
    }
    case "rm": {
      const path = `/api/v1/secrets/${encodeURIComponent(config.key ?? "")}${placementQuery(config)}`;
      const answer = await call(config, "DELETE", path);
      if (answer.status !== 204) refused(answer.status, answer.json);
      out(`removed secret '${config.key}'\n`);
      return;
    }
  }
}

try {
  await run(parseSecretCommand(process.argv.slice(2), process.env), (text) => process.stdout.write(text));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`apolo-secret: ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof CliError) {
    process.stderr.write(`apolo-secret: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`apolo-secret: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 3;
  }
}
