// Composition root of the server: config → store cache → certificate → HTTPS and metrics; signals.
// Loaded only by `serve`, so the offline command starts without the Kubernetes client.

import { KubeConfig } from "@kubernetes/client-node";
import type { ServeConfig } from "./config.js";
import type { Policy } from "./core/policy.js";
import { StoreCache } from "./kube/store-cache.js";
import { createApp } from "./server/app.js";
import { WebhookHttpsServer } from "./server/https-server.js";
import { createLogger, describeError } from "./server/logger.js";
import { createMetrics, createMetricsServer } from "./server/metrics.js";
import { createReviewHandler } from "./server/review-handler.js";
import { TlsReloader } from "./server/tls-reloader.js";

function loadKubeConfig(file: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (file) kubeConfig.loadFromFile(file);
  else kubeConfig.loadFromCluster();
  return kubeConfig;
}

export async function serve(config: ServeConfig): Promise<void> {
  const logger = createLogger(config.logLevel);
  const policy: Policy = {
    scope: config.scope,
    clusterName: config.clusterName,
    trustedUsers: new Set(config.trustedUsers),
    trustedGroups: new Set(config.trustedGroups),
  };

  const cache = new StoreCache(loadKubeConfig(config.kubeconfig), {
    namespaces: config.namespaces,
    labelSelector: config.secretLabelSelector,
    lookupTimeoutMs: config.lookupTimeoutMs,
    onEvent: (event) => {
      if (event.kind === "watch-error") logger.warn("store watch failed", event);
      else logger.info(`store cache ${event.kind}`, event);
    },
  });
  const metrics = createMetrics(cache);

  let server: WebhookHttpsServer | undefined;
  const tls = new TlsReloader(config.tlsCertFile, config.tlsKeyFile, config.tlsReloadIntervalMs, {
    onLoad: (certificate) => {
      metrics.tlsReloads.inc({ result: "loaded" });
      metrics.certificateExpiry.set(certificate.notAfter.getTime() / 1000);
      server?.setCertificate({ cert: certificate.cert, key: certificate.key });
      logger.info("serving certificate loaded", { notAfter: certificate.notAfter.toISOString() });
    },
    onReject: (error) => {
      metrics.tlsReloads.inc({ result: "rejected" });
      logger.warn("serving certificate not reloaded; keeping the current one", {
        error: describeError(error),
      });
    },
  });
  await tls.load();

  let shuttingDown = false;
  const app = createApp({
    handleReview: createReviewHandler({
      policy,
      index: cache,
      refresh: (ns, store) => cache.refresh(ns, store),
      logger,
      metrics,
    }),
    readiness: () => [
      ...(tls.loaded ? [] : ["certificate not loaded"]),
      ...(cache.synced ? [] : ["store cache not synced"]),
      ...(shuttingDown ? ["shutting down"] : []),
    ],
    maxBodyBytes: config.maxBodyBytes,
  });
  server = new WebhookHttpsServer(app, tls.current ?? {}, {
    host: config.bindAddress,
    port: config.port,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  });
  const metricsServer = config.metricsPort > 0 ? createMetricsServer(metrics.registry) : undefined;

  cache.start();
  tls.start();
  const port = await server.start();
  if (metricsServer) {
    await new Promise<void>((resolve) =>
      metricsServer.listen(config.metricsPort, config.bindAddress, resolve),
    );
  }
  logger.info("webhook serving", {
    port,
    metricsPort: config.metricsPort || undefined,
    scope: config.scope,
    namespaces: config.namespaces.join(",") || "*",
  });

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info("shutting down: not ready, still answering", { signal, delayMs: config.shutdownDelayMs });
    // A 503 from a webhook is a failed call, so keep answering until endpoints drop this pod.
    await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    const inFlight = server?.inFlight ?? 0;
    await server?.drain(config.drainTimeoutMs);
    tls.stop();
    cache.stop();
    metricsServer?.close();
    logger.info("stopped", { drainedRequests: inFlight });
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
