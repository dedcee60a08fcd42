// Composition root of the secrets API: config → Kubernetes client → token reviews and store
// writer → certificate → HTTPS and metrics; signals.

import { Counter } from "prom-client";
import type { ApiConfig } from "./config.js";
import { kubeClientFor } from "./kube/api-client.js";
import { createSecretsApi } from "./secrets-api/app.js";
import { StoreWriter } from "./secrets-api/store-writer.js";
import { TokenReviewer } from "./secrets-api/token-review.js";
import { CertifiedListener } from "./server/https-server.js";
import { createLogger, describeError } from "./server/logger.js";
import { createMetrics, createMetricsServer } from "./server/metrics.js";
import type { LoadedCertificate } from "./server/tls-reloader.js";
import { startServingCertificate } from "./serving-certificate.js";

export async function serveApi(config: ApiConfig): Promise<void> {
  const logger = createLogger(config.logLevel);
  const kube = kubeClientFor(config.kubeconfig, config.inCluster);
  const metrics = createMetrics(undefined);
  const requests = new Counter({
    name: "apolo_secrets_api_requests_total",
    help: "Secrets API requests, by method, route and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [metrics.registry],
  });
  const reviewer = new TokenReviewer(kube);
  let shuttingDown = false;
  let certificate: LoadedCertificate | undefined;
  const readiness = () => [
    ...(certificate ? [] : ["certificate not loaded"]),
    ...(shuttingDown ? ["shutting down"] : []),
  ];
  const app = createSecretsApi({
    review: (token) => reviewer.review(token),
    mapping: { usernamePrefix: config.usernamePrefix },
    store: new StoreWriter(kube, config.namespace),
    readiness,
    log: {
      request: (fields) => {
        requests.inc({ method: fields.method, route: fields.route, status: String(fields.status) });
        logger.info("api request", fields);
      },
      error: (message, error) => logger.error(message, { error: describeError(error) }),
    },
  });

  const server = new CertifiedListener(
    app,
    { host: config.bindAddress, port: config.port, keepAliveTimeoutMs: config.keepAliveTimeoutMs },
    (port) => logger.info("secrets API serving", { port, namespace: config.namespace }),
  );
  const stopCertificates = await startServingCertificate(config, kube, logger, metrics, (loaded) => {
    certificate = loaded;
    server.use({ cert: loaded.cert, key: loaded.key });
  });

  const metricsServer = config.metricsPort > 0 ? createMetricsServer(metrics.registry, readiness) : undefined;
  if (metricsServer) {
    await new Promise<void>((resolve, reject) => {
      metricsServer.once("error", reject);
      metricsServer.listen(config.metricsPort, config.bindAddress, () => resolve());
    });
  }

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info("shutting down: not ready, still answering", { signal, delayMs: config.shutdownDelayMs });
    await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    await server.drain(config.drainTimeoutMs);
    await stopCertificates();
    metricsServer?.close();
    kube.close();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
