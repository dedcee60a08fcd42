// Composition root of the secrets API: config → Kubernetes client → token reviews and store
// writer → app → HTTPS listener with its certificate → metrics port, all run by the shared
// lifecycle.

import { Counter } from "prom-client";
import type { ApiConfig } from "./config.js";
import { kubeClientFor } from "./kube/api-client.js";
import { type Drainable, ServerLifecycle } from "./lifecycle/lifecycle.js";
import { createLogger, describeError, type Logger } from "./lifecycle/logger.js";
import { createSecretsApi } from "./secrets-api/app.js";
import { SubjectAccessReviewer } from "./secrets-api/project-access.js";
import { StoreWriter } from "./secrets-api/store-writer.js";
import { TokenReviewer } from "./secrets-api/token-review.js";
import { BodyBudget } from "./server/body-budget.js";
import { createMetrics } from "./server/metrics.js";
import { certifiedListener, SHUTDOWN_SIGNALS, startCertificate, startMetricsPort } from "./serving.js";

/** Runs the secrets API until SIGTERM or SIGINT; rejects when it cannot start or stop cleanly. */
export function serveApi(config: ApiConfig): Promise<void> {
  const logger = createLogger(config.logLevel);
  const lifecycle = new ServerLifecycle({
    shutdownDelayMs: config.shutdownDelayMs,
    drainTimeoutMs: config.drainTimeoutMs,
    logger,
    signals: SHUTDOWN_SIGNALS,
  });
  return lifecycle.run(() => startApi(config, logger, lifecycle));
}

async function startApi(config: ApiConfig, logger: Logger, lifecycle: ServerLifecycle): Promise<Drainable> {
  const kube = kubeClientFor(config.kubeconfig, config.inCluster);
  lifecycle.onStop("Kubernetes client", () => kube.close());
  const metrics = createMetrics(undefined, undefined, lifecycle.readiness);
  const requests = new Counter({
    name: "apolo_secrets_api_requests_total",
    help: "Secrets API requests, by method, route and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [metrics.registry],
  });
  const reviewer = new TokenReviewer(kube);
  const app = createSecretsApi({
    review: (token) => reviewer.review(token),
    mapping: config.identity,
    store: new StoreWriter(kube, config.namespace),
    readiness: lifecycle.readiness,
    bodyBudget: new BodyBudget(config.maxInflightBodyBytes),
    projects: config.scope === "project" ? new SubjectAccessReviewer(kube, config.namespace) : undefined,
    log: {
      request: (fields) => {
        requests.inc({ method: fields.method, route: fields.route, status: String(fields.status) });
        logger.info("api request", fields);
      },
      error: (message, error) => logger.error(message, { error: describeError(error) }),
    },
  });
  const https = {
    host: config.bindAddress,
    port: config.port,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    maxConnections: config.maxConnections,
  };
  const listener = certifiedListener(app, https, lifecycle, (port) =>
    logger.info("secrets API serving", {
      port,
      namespace: config.namespace,
      scope: config.scope,
      usernamePrefixes: config.identity.usernamePrefixes.join(","),
    }),
  );
  await startCertificate(config, kube, logger, metrics, lifecycle, listener);
  await startMetricsPort(config, metrics.registry, lifecycle, logger);
  return listener;
}
