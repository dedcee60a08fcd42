// Composition root of the server: config → store cache → certificate source (files or a Secret,
// optionally managed) → HTTPS and metrics; signals. Loaded only by `serve`, so the offline command
// starts without the Kubernetes client.

import { policyOf, type ServeConfig } from "./config.js";
import { kubeClientFor } from "./kube/api-client.js";
import { StoreCache } from "./kube/store-cache.js";
import { createApp } from "./server/app.js";
import { BodyBudget } from "./server/body-budget.js";
import { ClientCaReloader } from "./server/client-ca.js";
import { CertifiedListener } from "./server/https-server.js";
import { createLogger, describeError, type Logger } from "./server/logger.js";
import { createMetrics, createMetricsServer } from "./server/metrics.js";
import { createReviewHandler } from "./server/review-handler.js";
import type { LoadedCertificate } from "./server/tls-reloader.js";
import { startServingCertificate } from "./serving-certificate.js";

export async function serve(config: ServeConfig): Promise<void> {
  const logger = createLogger(config.logLevel);
  const policy = policyOf(config);
  const kube = kubeClientFor(config.kubeconfig, config.inCluster);

  const cache = new StoreCache(kube, {
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
  const bodyBudget = new BodyBudget(config.maxInflightBodyBytes);
  const metrics = createMetrics(cache, bodyBudget);

  let shuttingDown = false;
  let certificate: LoadedCertificate | undefined;
  let clientCaLoaded = config.clientCaFile === undefined;
  const readiness = () => [
    ...(certificate ? [] : ["certificate not loaded"]),
    ...(clientCaLoaded ? [] : ["client CA not loaded"]),
    ...(cache.synced ? [] : ["store cache not synced"]),
    ...(shuttingDown ? ["shutting down"] : []),
  ];
  const app = createApp({
    handleReview: createReviewHandler({
      policy,
      index: cache,
      refresh: (ns, store) => cache.refresh(ns, store),
      logger,
      metrics,
    }),
    readiness,
    maxBodyBytes: config.maxBodyBytes,
    bodyBudget,
    onBusy: () => metrics.inflightRefusals.inc(),
  });

  // HTTPS starts listening with the first certificate; until then the pod is alive, not ready.
  const server = new CertifiedListener(
    app,
    {
      host: config.bindAddress,
      port: config.port,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      clientAuth: config.clientCaFile ? { allowedNames: config.clientAllowedNames } : undefined,
      onRefused: (reason) => metrics.tlsRefusals.inc({ reason }),
    },
    (port) =>
      logger.info("webhook serving", {
        port,
        scope: config.scope,
        namespaces: config.namespaces.join(",") || "*",
        clientAuth: config.clientCaFile ? "required" : "off",
      }),
  );
  const stopClientCa = await startClientCa(config, logger, (ca) => {
    clientCaLoaded = true;
    server.trustClients(ca);
  });
  const useCertificate = (loaded: LoadedCertificate) => {
    certificate = loaded;
    server.use({ cert: loaded.cert, key: loaded.key });
  };
  const stopCertificates = await startServingCertificate(config, kube, logger, metrics, useCertificate);

  const metricsServer = config.metricsPort > 0 ? createMetricsServer(metrics.registry, readiness) : undefined;
  cache.start();
  if (metricsServer) {
    await new Promise<void>((resolve, reject) => {
      metricsServer.once("error", reject);
      metricsServer.listen(config.metricsPort, config.bindAddress, () => resolve());
    });
    logger.info("metrics serving", { port: config.metricsPort });
  }

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info("shutting down: not ready, still answering", { signal, delayMs: config.shutdownDelayMs });
    // A 503 from a webhook is a failed call, so keep answering until endpoints drop this pod.
    await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    const inFlight = server.inFlight;
    await server.drain(config.drainTimeoutMs);
    await stopCertificates();
    stopClientCa();
    void cache.stop();
    metricsServer?.close();
    logger.info("stopped", { inFlightAtDrain: inFlight });
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

/**
 * With --client-ca-file, the CA that decides who may call: until it loads the HTTPS port does not
 * listen (fail closed; readiness says why), and a bad replacement keeps the one in use.
 */
async function startClientCa(
  config: ServeConfig,
  logger: Logger,
  use: (ca: Buffer) => void,
): Promise<() => void> {
  const file = config.clientCaFile;
  if (!file) return () => {};
  let lastProblem: string | undefined;
  const events = {
    onLoad: (ca: { pem: Buffer; count: number }) => {
      lastProblem = undefined;
      logger.info("client CA loaded: client certificates required", { file, certificates: ca.count });
      use(ca.pem);
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
  return () => reloader.stop();
}
