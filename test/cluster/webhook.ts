// The webhook as a real process (the production entry point), registered with the API server by
// a MutatingWebhookConfiguration that calls it on loopback over TLS.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CASE_CLUSTER } from "../cases/cases.js";
import { find, render } from "../chart/helm.js";
import { issueCert } from "../support/certs.js";
import { type ControlPlane, kubectl, USERS } from "./control-plane.js";
import {
  assertServing,
  freePort,
  type Managed,
  PortTaken,
  startOnFreePorts,
  startProcess,
  tail,
  waitFor,
} from "./processes.js";

export const SERVED_NAMESPACE_LABEL = "platform.apolo.us/secrets-webhook";
export const WEBHOOK_NAMESPACE = "apolo-secrets-webhook";
// The shared cases name this cluster in secret://CLUSTER/... references.
export const CLUSTER_NAME = CASE_CLUSTER;
// The chart's release: named like the chart, its objects are named `apolo-secrets-webhook`.
export const CONFIGURATION_NAME = "apolo-secrets-webhook";

export interface WebhookProcess {
  port: number;
  metricsPort: number;
  url: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** With client authentication: the API server's client certificate, for tests that call directly. */
  client: { cert: Buffer; key: Buffer } | undefined;
}

export interface WebhookOptions {
  /** The HTTPS port (default: a free one). */
  port?: number;
  /** The metrics port (default: a free one). */
  metricsPort?: number;
  /** Require the API server's client certificate (--client-ca-file), as production should. Default true. */
  clientAuth?: boolean;
}

const BIN = join(import.meta.dirname, "../../bin/apolo-secrets-webhook");

/** Ports, certificate and arguments of a webhook process; `name` keeps several apart. */
export async function prepareWebhook(
  plane: ControlPlane,
  name = "webhook-serving",
  options: WebhookOptions = {},
): Promise<WebhookProcess> {
  const cert = issueCert(plane.ca, {
    name,
    commonName: "apolo-secrets-webhook",
    ips: ["127.0.0.1"],
    usage: "server",
  });
  const port = options.port ?? (await freePort());
  const metricsPort = options.metricsPort ?? (await freePort());
  const clientAuth = options.clientAuth ?? true;
  const client = plane.webhookClient;
  return {
    port,
    metricsPort,
    url: `https://127.0.0.1:${port}/mutate`,
    args: [
      "serve",
      "--bind-address=127.0.0.1",
      `--port=${port}`,
      `--metrics-port=${metricsPort}`,
      `--tls-cert-file=${cert.certFile}`,
      `--tls-key-file=${cert.keyFile}`,
      `--kubeconfig=${plane.kubeconfigs.webhook}`,
      `--trusted-users=${USERS.platform.name}`,
      `--cluster-name=${CLUSTER_NAME}`,
      "--shutdown-delay-ms=0",
      "--drain-timeout-ms=2000",
      "--tls-reload-interval-ms=500",
      ...(clientAuth ? [`--client-ca-file=${client.ca.certFile}`] : []),
    ],
    env: { ...process.env },
    client: clientAuth
      ? { cert: readFileSync(client.cert.certFile), key: readFileSync(client.cert.keyFile) }
      : undefined,
  };
}

export function startWebhook(plane: ControlPlane, webhook: WebhookProcess, name = "webhook"): Managed {
  return startProcess(plane.dir, plane.pidFile, {
    name,
    command: BIN,
    args: webhook.args,
    env: webhook.env,
  });
}

export async function waitForWebhookReady(
  webhook: WebhookProcess,
  managed: Managed,
  timeoutMs = 30_000,
): Promise<void> {
  let exited = false;
  void managed.exited.then(() => {
    exited = true;
  });
  await waitFor(
    "webhook /readyz",
    async () => {
      assertServing(managed, exited, "the webhook");
      // The metrics port is plain HTTP and mirrors /readyz through the ready gauge (certificate
      // loaded and served, store cache synced): the cache alone can be synced a moment before the
      // HTTPS listener is up.
      // Bounded: whatever holds the port may accept and never answer.
      const text = await fetch(`http://127.0.0.1:${webhook.metricsPort}/metrics`, {
        signal: AbortSignal.timeout(2_000),
      }).then((r) => r.text());
      return text.includes("\napolo_secrets_webhook_ready 1") ? true : undefined;
    },
    timeoutMs,
  ).catch((error: unknown) => {
    if (error instanceof PortTaken) throw error;
    throw new Error(`${String(error)}\n--- webhook log ---\n${tail(managed.logFile)}`);
  });
}

/**
 * Prepares, starts and waits for a webhook on fresh ports (again on new ones if a port was taken
 * before it bound). `adjust` may change its arguments and environment before it starts.
 */
export function launchWebhook(
  plane: ControlPlane,
  name: string,
  options: Omit<WebhookOptions, "port" | "metricsPort"> & {
    adjust?: (webhook: WebhookProcess) => void;
    /** What "ready" means (default: the store cache has synced). */
    ready?: (webhook: WebhookProcess, managed: Managed) => Promise<void>;
  } = {},
): Promise<{ webhook: WebhookProcess; managed: Managed }> {
  return startOnFreePorts(async ([port, metricsPort]) => {
    const webhook = await prepareWebhook(plane, `${name}-serving`, { ...options, port, metricsPort });
    options.adjust?.(webhook);
    const managed = startWebhook(plane, webhook, name);
    await (options.ready ?? waitForWebhookReady)(webhook, managed);
    return { webhook, managed };
  });
}

/**
 * The chart's own MutatingWebhookConfiguration (helm template with the chart's defaults: rules,
 * selectors, excluded namespaces), pointed at `url`, with the caBundle the webhook's certificate
 * needs. The e2e suite registers this, so it exercises the chart's selectors, not a copy.
 * `values` are more helm values (render's syntax); `release` names the configuration.
 */
export function webhookConfiguration(
  url: string,
  caPem: string,
  values: string[] = [],
  release = CONFIGURATION_NAME,
): string {
  const manifests = render([`webhook.clientConfigUrl=${url}`, ...values], WEBHOOK_NAMESPACE, release);
  const configuration = find(manifests, "MutatingWebhookConfiguration") as unknown as {
    webhooks: Array<{ clientConfig: { url?: string; caBundle?: string } }>;
  };
  for (const webhook of configuration.webhooks)
    webhook.clientConfig.caBundle = Buffer.from(caPem).toString("base64");
  return JSON.stringify(configuration);
}

/**
 * Registers a second webhook (configuration `release`) for namespaces labelled `label: enabled`
 * only, instead of the suite's label: a test's own webhook with flags of its own.
 */
export function registerForLabel(plane: ControlPlane, url: string, label: string, release: string): void {
  const selector = `json:webhook.namespaceSelector.matchLabels={"${SERVED_NAMESPACE_LABEL}":null,"${label}":"enabled"}`;
  kubectl(plane, "admin", ["apply", "-f", "-"], webhookConfiguration(url, plane.ca.pem, [selector], release));
}

/** Waits until pods created in `namespace` reach a webhook: one refuses a reference without an owner. */
export async function waitUntilCalled(plane: ControlPlane, namespace: string): Promise<void> {
  const probe = JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "probe" },
    spec: { containers: [{ name: "c", image: "none", env: [{ name: "P", value: "secret:probe" }] }] },
  });
  await waitFor(
    `the API server to call a webhook for ${namespace}`,
    async () => {
      try {
        kubectl(plane, "admin", ["create", "--dry-run=server", "-n", namespace, "-f", "-"], probe);
        return undefined;
      } catch (error) {
        return String(error).includes("has no owner") ? true : undefined;
      }
    },
    30_000,
    300,
  );
}

/** Registers the webhook and waits until the API server really calls it. */
export async function registerWebhook(plane: ControlPlane, webhook: WebhookProcess): Promise<void> {
  kubectl(plane, "admin", ["apply", "-f", "-"], webhookConfiguration(webhook.url, plane.ca.pem));
  const probeNamespace = "apolo-webhook-probe";
  kubectl(
    plane,
    "admin",
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: probeNamespace, labels: { [SERVED_NAMESPACE_LABEL]: "enabled" } },
    }),
  );
  kubectl(
    plane,
    "admin",
    ["apply", "-n", probeNamespace, "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } }),
  );
  // A pod with a reference and no owner: only the webhook refuses it, so a refusal proves the
  // API server calls the webhook (a new configuration reaches it after a short lag).
  await waitUntilCalled(plane, probeNamespace);
}
