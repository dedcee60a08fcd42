#!/usr/bin/env node
// Composition root and entry point: config → store cache → certificate → server; signals.

import { KubeConfig } from "@kubernetes/client-node";
import { runMutate } from "./cli/mutate.js";
import { ConfigError, parseCommand, type ServeConfig } from "./config.js";
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

async function serve(config: ServeConfig): Promise<void> {
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

async function main(): Promise<number> {
  let command: ReturnType<typeof parseCommand>;
  try {
    command = parseCommand(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  switch (command.command) {
    case "help":
      process.stdout.write(command.text);
      return 0;
    case "mutate":
      return runMutate(command.config, {
        readStdin: async () => {
          const chunks: Buffer[] = [];
          for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
          return Buffer.concat(chunks).toString("utf8");
        },
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
      });
    case "serve":
      try {
        await serve(command.config);
      } catch (error) {
        process.stderr.write(`error: cannot start the webhook: ${describeError(error)}\n`);
        return 1;
      }
      return -1;
  }
}

main().then(
  (code) => {
    // -1: a server is running; it exits on a signal.
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${describeError(error)}\n`);
    process.exitCode = 1;
  },
);
