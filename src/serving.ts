// What the webhook and the secrets API share on top of the lifecycle: the HTTPS listener that
// starts with the first certificate, the certificate source that feeds it, and the metrics port.
// Each step registers its readiness condition and its stop with the lifecycle.

import type { RequestListener } from "node:http";
import type { Registry } from "prom-client";
import {
  type CertificateMetrics,
  startServingCertificate,
  type TlsSettings,
} from "./certs/serving-certificate.js";
import type { KubeClient } from "./kube/api-client.js";
import type { ServerLifecycle } from "./lifecycle/lifecycle.js";
import type { Logger } from "./lifecycle/logger.js";
import { CertifiedListener, type HttpsOptions } from "./server/https-server.js";
import { startMetricsServer } from "./server/metrics.js";

/** The HTTPS listener; a port that cannot be bound fails the lifecycle (exit 1). */
export function certifiedListener(
  app: RequestListener,
  options: HttpsOptions,
  lifecycle: ServerLifecycle,
  onListening: (port: number) => void,
): CertifiedListener {
  return new CertifiedListener(app, options, onListening, (error) => lifecycle.fail(error));
}

/** Starts the certificate source feeding `listener`; not ready until a first pair is in. */
export async function startCertificate(
  settings: TlsSettings,
  kube: KubeClient,
  logger: Logger,
  metrics: CertificateMetrics,
  lifecycle: ServerLifecycle,
  listener: CertifiedListener,
): Promise<void> {
  let loaded = false;
  lifecycle.requireReady("certificate not loaded", () => loaded);
  // The port is bound a moment after the first certificate (or once the client CA is in too).
  lifecycle.requireReady("HTTPS port not listening", () => !loaded || listener.listening);
  const stop = await startServingCertificate(settings, kube, logger, metrics, (certificate) => {
    loaded = true;
    listener.use({ cert: certificate.cert, key: certificate.key });
  });
  lifecycle.onStop("certificate source", stop);
}

/** The plain-HTTP metrics and probes port (none when `metricsPort` is 0); a bind failure rejects. */
export async function startMetricsPort(
  settings: { metricsPort: number; bindAddress: string },
  registry: Registry,
  lifecycle: ServerLifecycle,
  logger: Logger,
): Promise<void> {
  if (settings.metricsPort === 0) return;
  const server = await startMetricsServer(
    registry,
    lifecycle.readiness,
    settings.bindAddress,
    settings.metricsPort,
  );
  // Registered last, so stopped first of the dependencies: after the drain, when no probe matters.
  lifecycle.onStop("metrics port", () => {
    server.close();
    server.closeAllConnections();
  });
  logger.info("metrics serving", { port: settings.metricsPort });
}

/** The signals that start the shutdown of either server. */
export const SHUTDOWN_SIGNALS = ["SIGTERM", "SIGINT"] as const;
