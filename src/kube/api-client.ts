// A small Kubernetes API client: exactly what the webhook uses (GET, LIST, WATCH, PUT, POST,
// PATCH of a few objects) over node:https with keep-alive. The general client library loads
// every generated API and model at start (about 90 MB of RSS before the first request, measured
// in bench/), more than the whole store cache at 10,000 owners; this one costs next to nothing.
// Auth: the in-cluster service account, or a kubeconfig with a token or client certificate.

import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parse as parseYaml } from "yaml";
import { trimTrailing } from "../core/charset.js";

export class KubeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface KubeAccess {
  server: string;
  ca: Buffer | undefined;
  cert: Buffer | undefined;
  key: Buffer | undefined;
  insecureSkipTlsVerify: boolean;
  /** Returns the bearer token now (service-account tokens rotate on disk), or undefined. */
  token: (() => string) | undefined;
}

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

/** A token file re-read at most once a minute: the kubelet rotates bound tokens in place. */
function tokenFile(path: string): () => string {
  let cached = "";
  let readAt = 0;
  return () => {
    if (Date.now() - readAt > 60_000) {
      cached = readFileSync(path, "utf8").trim();
      readAt = Date.now();
    }
    return cached;
  };
}

/** The API server's Service as the kubelet announces it in every pod (KUBERNETES_SERVICE_HOST/PORT). */
export interface InClusterService {
  host: string;
  port: string;
}

/** The in-cluster service account; config reads the Service's address from the environment. */
export function inClusterAccess(service: InClusterService | undefined): KubeAccess {
  if (!service)
    throw new Error("not running in a cluster (KUBERNETES_SERVICE_HOST is unset): pass --kubeconfig");
  const { host, port } = service;
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    ca: readFileSync(`${SERVICE_ACCOUNT}/ca.crt`),
    cert: undefined,
    key: undefined,
    insecureSkipTlsVerify: false,
    token: tokenFile(`${SERVICE_ACCOUNT}/token`),
  };
}

type Named<T> = { name: string } & T;
interface KubeconfigFile {
  "current-context"?: string;
  contexts?: Named<{ context: { cluster: string; user: string } }>[];
  clusters?: Named<{
    cluster: {
      server: string;
      "certificate-authority"?: string;
      "certificate-authority-data"?: string;
      "insecure-skip-tls-verify"?: boolean;
    };
  }>[];
  users?: Named<{ user: Record<string, unknown> }>[];
}

/** The current context of a kubeconfig file. Exec plugins and auth providers are not supported. */
export function kubeconfigAccess(file: string): KubeAccess {
  const base = dirname(file);
  const config = parseYaml(readFileSync(file, "utf8")) as KubeconfigFile;
  const contextName = config["current-context"];
  const context = config.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`kubeconfig ${file}: current-context '${contextName ?? ""}' not found`);
  const cluster = config.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`kubeconfig ${file}: cluster '${context.cluster}' has no server`);
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  const fileOrData = (
    fileKey: string,
    dataKey: string,
    from: Record<string, unknown>,
  ): Buffer | undefined => {
    const data = from[dataKey];
    if (typeof data === "string") return Buffer.from(data, "base64");
    const path = from[fileKey];
    if (typeof path === "string") return readFileSync(resolve(base, path));
    return undefined;
  };
  if (user.exec || user["auth-provider"]) {
    throw new Error(
      `kubeconfig ${file}: user '${context.user}' uses an exec plugin or auth provider, which the webhook does not run; use a token or a client certificate`,
    );
  }
  const token = typeof user.token === "string" ? user.token : undefined;
  const tokenPath = typeof user.tokenFile === "string" ? resolve(base, user.tokenFile) : undefined;
  return {
    server: trimTrailing(cluster.server, "/"),
    ca: fileOrData("certificate-authority", "certificate-authority-data", cluster as Record<string, unknown>),
    cert: fileOrData("client-certificate", "client-certificate-data", user),
    key: fileOrData("client-key", "client-key-data", user),
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
    token: token !== undefined ? () => token : tokenPath ? tokenFile(tokenPath) : undefined,
  };
}

/** The client of a server: from a kubeconfig file when given, else the in-cluster service account. */
export function kubeClientFor(
  kubeconfig: string | undefined,
  inCluster: InClusterService | undefined,
): KubeClient {
  return new KubeClient(kubeconfig ? kubeconfigAccess(kubeconfig) : inClusterAccess(inCluster));
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Accept header; default application/json (a metadata-only form keeps values off the wire). */
  accept?: string;
  timeoutMs?: number;
}

export type WatchEvent = {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: Record<string, unknown>;
};

export class KubeClient {
  readonly #access: KubeAccess;
  readonly #agent: Agent;

  constructor(access: KubeAccess) {
    this.#access = access;
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: 16,
      ...(access.ca ? { ca: access.ca } : {}),
      ...(access.cert ? { cert: access.cert } : {}),
      ...(access.key ? { key: access.key } : {}),
      rejectUnauthorized: !access.insecureSkipTlsVerify,
    });
  }

  #url(path: string, query?: RequestOptions["query"]): URL {
    const url = new URL(this.#access.server + path);
    for (const [key, value] of Object.entries(query ?? {}))
      if (value !== undefined && value !== "") url.searchParams.set(key, String(value));
    return url;
  }

  #headers(contentType?: string, accept = "application/json"): Record<string, string> {
    const headers: Record<string, string> = {
      accept,
      "user-agent": "apolo-secrets-webhook",
    };
    const token = this.#access.token?.();
    if (token) headers.authorization = `Bearer ${token}`;
    if (contentType) headers["content-type"] = contentType;
    return headers;
  }

  /** One request; resolves with the decoded JSON body, rejects with KubeError for HTTP errors. */
  request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    return new Promise<T>((resolvePromise, reject) => {
      const req = request(
        this.#url(path, options.query),
        {
          method,
          agent: this.#agent,
          headers: this.#headers(
            payload === undefined ? undefined : (options.contentType ?? "application/json"),
            options.accept,
          ),
          timeout: options.timeoutMs ?? 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              try {
                resolvePromise((text === "" ? {} : JSON.parse(text)) as T);
              } catch {
                reject(
                  new KubeError(
                    status,
                    `${method} ${path}: the API server answered with something other than JSON`,
                  ),
                );
              }
              return;
            }
            let message = text.slice(0, 300);
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? message;
            } catch {
              // not a Status object; keep the text
            }
            reject(new KubeError(status, `${method} ${path}: HTTP ${status}: ${message}`));
          });
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`${method} ${path}: no answer in ${options.timeoutMs ?? 30_000} ms`)),
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  /**
   * Streams a watch: calls onEvent per event; resolves when the server ends the watch, rejects on
   * errors or when no data arrives for `idleTimeoutMs`. Aborts when `signal` fires.
   */
  watch(
    path: string,
    query: RequestOptions["query"],
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
    idleTimeoutMs = 60_000,
  ): Promise<void> {
    return new Promise<void>((resolvePromise, reject) => {
      const req = request(
        this.#url(path, { ...query, watch: true }),
        { method: "GET", agent: this.#agent, headers: this.#headers(), signal, timeout: idleTimeoutMs },
        (res) => {
          if (res.statusCode !== 200) {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () =>
              reject(
                new KubeError(
                  res.statusCode ?? 0,
                  `watch ${path}: HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString("utf8").slice(0, 300)}`,
                ),
              ),
            );
            return;
          }
          const lines = createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY });
          // readline re-emits stream errors (a restarted API server cuts the watch): without this
          // listener that error would crash the process.
          lines.on("error", reject);
          lines.on("line", (line) => {
            if (line.trim() === "") return;
            try {
              onEvent(JSON.parse(line) as WatchEvent);
            } catch (error) {
              req.destroy(error instanceof Error ? error : new Error(String(error)));
            }
          });
          res.on("end", () => resolvePromise());
          res.on("error", reject);
          res.on("aborted", () => reject(new Error(`watch ${path}: the connection was cut`)));
        },
      );
      req.on("timeout", () => req.destroy(new Error(`watch ${path}: no data for ${idleTimeoutMs} ms`)));
      req.on("error", reject);
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
