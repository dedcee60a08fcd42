// Composition root of the webhook: config → Kubernetes client → store cache → review handler and
// app → HTTPS listener with its certificate (files or a Secret, optionally managed) and client CA
// → metrics port, all run by the shared lifecycle. Loaded only by `serve`, so the offline command
// starts without the Kubernetes client.

import { ClientCaReloader } from "./certs/client-ca.js";
import { policyOf, type ServeConfig } from "./config.js";
import { type KubeClient, kubeClientFor } from "./kube/api-client.js";
import { StoreCache } from "./kube/store-cache.js";
import { type Drainable, ServerLifecycle } from "./lifecycle/lifecycle.js";
import { createLogger, describeError, type Logger } from "./lifecycle/logger.js";
import { createApp } from "./server/app.js";
import { BodyBudget } from "./server/body-budget.js";
import type { CertifiedListener } from "./server/https-server.js";
import { createMetrics, type WebhookMetrics } from "./server/metrics.js";
import { createReviewHandler } from "./server/review-handler.js";
import { certifiedListener, SHUTDOWN_SIGNALS, startCertificate, startMetricsPort } from "./serving.js";

/** Runs the webhook until SIGTERM or SIGINT; rejects when it cannot start or stop cleanly. */
export function serve(config: ServeConfig): Promise<void> {
  const logger = createLogger(config.logLevel);
  const lifecycle = new ServerLifecycle({
    shutdownDelayMs: config.shutdownDelayMs,
    drainTimeoutMs: config.drainTimeoutMs,
    logger,
    signals: SHUTDOWN_SIGNALS,
  });
  return lifecycle.run(() => startWebhook(config, logger, lifecycle));
}

async function startWebhook(
  config: ServeConfig,
  logger: Logger,
  lifecycle: ServerLifecycle,
): Promise<Drainable> {
  const kube = kubeClientFor(config.kubeconfig, config.inCluster);
  lifecycle.onStop("Kubernetes client", () => kube.close());
  const cache = storeCache(config, kube, logger);
  const bodyBudget = new BodyBudget(config.maxInflightBodyBytes);
  const metrics = createMetrics(cache, bodyBudget, lifecycle.readiness);
  const listener = webhookListener(config, logger, lifecycle, metrics, cache, bodyBudget);
  await startCertificate(config, kube, logger, metrics, lifecycle, listener);
  await startClientCa(config, logger, lifecycle, listener);
  lifecycle.requireReady("store cache not synced", () => cache.synced);
  cache.start();
  lifecycle.onStop("store cache", () => cache.stop());
  await startMetricsPort(config, metrics.registry, lifecycle, logger);
  return listener;
}

function storeCache(config: ServeConfig, kube: KubeClient, logger: Logger): StoreCache {
  return new StoreCache(kube, {
    namespaces: config.namespaces,
    labelSelectors: config.secretLabelSelectors,
    lookupTimeoutMs: config.lookupTimeoutMs,
    onEvent: (event) => {
      if (event.kind === "watch-error") logger.warn("store watch failed", event);
      else if (event.kind === "unlabelled-store")
        logger.warn(
          "a Secret named like a store matches no --secret-label-selector: treated as absent; label it (see README, Upgrading)",
          event,
        );
      else logger.info(`store cache ${event.kind}`, event);
    },
  });
}

/** The app behind HTTPS: it starts listening with the first certificate (and client CA). */
function webhookListener(
  config: ServeConfig,
  logger: Logger,
  lifecycle: ServerLifecycle,
  metrics: WebhookMetrics,
  cache: StoreCache,
  bodyBudget: BodyBudget,
): CertifiedListener {
  const app = createApp({
    handleReview: createReviewHandler({
      policy: policyOf(config),
      index: cache,
      refresh: (ns, store) => cache.refresh(ns, store),
      logger,
      metrics,
    }),
    readiness: lifecycle.readiness,
    maxBodyBytes: config.maxBodyBytes,
    bodyBudget,
    onBusy: () => metrics.inflightRefusals.inc(),
  });
  const https = {
    host: config.bindAddress,
    port: config.port,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    maxConnections: config.maxConnections,
    clientAuth: config.clientCaFile ? { allowedNames: config.clientAllowedNames } : undefined,
    onRefused: (reason: "handshake" | "client-name") => metrics.tlsRefusals.inc({ reason }),
  };
  return certifiedListener(app, https, lifecycle, (port) =>
    logger.info("webhook serving", {
      port,
      scope: config.scope,
      namespaces: config.namespaces.join(",") || "*",
      clientAuth: config.clientCaFile ? "required" : "off",
      // The identity rule, to compare with the secrets API's line: both must read names alike.
      usernamePrefixes: config.identity.usernamePrefixes.join(","),
    }),
  );
}

/**
 * With --client-ca-file, the CA that decides who may call: until it loads the HTTPS port does not
 * listen (fail closed; readiness says why), and a bad replacement keeps the one in use.
 */
async function startClientCa(
  config: ServeConfig,
  logger: Logger,
  lifecycle: ServerLifecycle,
  listener: CertifiedListener,
): Promise<void> {
  const file = config.clientCaFile;
  if (!file) return;
  let loaded = false;
  lifecycle.requireReady("client CA not loaded", () => loaded);
  let lastProblem: string | undefined;
  const events = {
    onLoad: (ca: { pem: Buffer; count: number }) => {
      lastProblem = undefined;
      loaded = true;
      logger.info("client CA loaded: client certificates required", { file, certificates: ca.count });
      listener.trustClients(ca.pem);
    },
    onReject: (error: unknown) => {
      const problem = describeError(error);
      if (problem === lastProblem) return;
      lastProblem = problem;
      logger.warn("client CA not (re)loaded; keeping the current one", { error: problem });
    },
  };
  const reloader = new ClientCaReloader(file, config.tlsReloadIntervalMs, events);
  await reloader.load().catch(events.onReject);
  reloader.start();
  lifecycle.onStop("client CA reloader", () => reloader.stop());
}
