// Composition root of the server: config → store cache → certificate source (files or a Secret,
// optionally managed) → HTTPS and metrics; signals. Loaded only by `serve`, so the offline command
// starts without the Kubernetes client.

import { SecretCertificateSource } from "./certs/secret-source.js";
import type { ServeConfig } from "./config.js";
import type { Policy } from "./core/policy.js";
import { inClusterAccess, KubeClient, kubeconfigAccess } from "./kube/api-client.js";
import { StoreCache } from "./kube/store-cache.js";
import { createApp } from "./server/app.js";
import { WebhookHttpsServer } from "./server/https-server.js";
import { createLogger, describeError } from "./server/logger.js";
import { createMetrics, createMetricsServer } from "./server/metrics.js";
import { createReviewHandler } from "./server/review-handler.js";
import { checkCertificatePair, type LoadedCertificate, TlsReloader } from "./server/tls-reloader.js";

function kubeClient(kubeconfig: string | undefined): KubeClient {
  return new KubeClient(kubeconfig ? kubeconfigAccess(kubeconfig) : inClusterAccess());
}

export async function serve(config: ServeConfig): Promise<void> {
  const logger = createLogger(config.logLevel);
  const policy: Policy = {
    scope: config.scope,
    clusterName: config.clusterName,
    trustedUsers: new Set(config.trustedUsers),
    trustedGroups: new Set(config.trustedGroups),
  };
  const kubeConfig = kubeClient(config.kubeconfig);

  const cache = new StoreCache(kubeConfig, {
    namespaces: config.namespaces,
    labelSelector: config.secretLabelSelector,
    lookupTimeoutMs: config.lookupTimeoutMs,
    onEvent: (event) => {
      if (event.kind === "watch-error") logger.warn("store watch failed", event);
      else logger.info(`store cache ${event.kind}`, event);
    },
  });
  const metrics = createMetrics(cache);

  let shuttingDown = false;
  let certificate: LoadedCertificate | undefined;
  const readiness = () => [
    ...(certificate ? [] : ["certificate not loaded"]),
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
  });

  // HTTPS starts listening with the first certificate; until then the pod is alive, not ready.
  let server: WebhookHttpsServer | undefined;
  let listening: Promise<void> | undefined;
  const useCertificate = (loaded: LoadedCertificate) => {
    certificate = loaded;
    metrics.tlsReloads.inc({ result: "loaded" });
    metrics.certificateExpiry.set(loaded.notAfter.getTime() / 1000);
    logger.info("serving certificate loaded", { notAfter: loaded.notAfter.toISOString() });
    if (server) {
      server.setCertificate({ cert: loaded.cert, key: loaded.key });
      return;
    }
    const created = new WebhookHttpsServer(
      app,
      { cert: loaded.cert, key: loaded.key },
      {
        host: config.bindAddress,
        port: config.port,
        keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      },
    );
    server = created;
    listening = created.start().then(
      (port) =>
        logger.info("webhook serving", {
          port,
          scope: config.scope,
          namespaces: config.namespaces.join(",") || "*",
        }),
      (error: unknown) => {
        logger.error("cannot listen", { port: config.port, error: describeError(error) });
        process.exit(1);
      },
    );
  };
  const rejectCertificate = (error: unknown) => {
    metrics.tlsReloads.inc({ result: "rejected" });
    logger.warn("serving certificate not (re)loaded; keeping the current one", {
      error: describeError(error),
    });
  };

  let stopCertificates: () => Promise<void> | void;
  if (config.tlsSecret) {
    const { namespace, name } = config.tlsSecret;
    const source = new SecretCertificateSource(kubeConfig, namespace, name, config.tlsReloadIntervalMs, {
      onPair: (cert, key) => {
        try {
          useCertificate(checkCertificatePair(cert, key, `Secret ${namespace}/${name}`));
        } catch (error) {
          rejectCertificate(error);
        }
      },
      onError: (error) => logger.warn("serving certificate Secret not usable yet", { error }),
    });
    const managed = config.certificates;
    // Loaded only when used: certificate generation brings in an X.509 library.
    const { CertificateRotator } = managed
      ? await import("./certs/rotator.js")
      : { CertificateRotator: undefined };
    const rotator =
      managed && CertificateRotator
        ? new CertificateRotator(kubeConfig, {
            namespace,
            secretName: name,
            webhookConfigurationName: managed.webhookConfigurationName,
            intervalMs: managed.checkIntervalMs,
            policy: {
              caValidityMs: managed.caValidityMs,
              caRenewBeforeMs: managed.caRenewBeforeMs,
              servingValidityMs: managed.certificateValidityMs,
              servingRenewBeforeMs: managed.certificateRenewBeforeMs,
              overlapMs: managed.caOverlapMs,
              caCommonName: "apolo-secrets-webhook CA",
              serving: {
                commonName: managed.dnsNames[0] ?? managed.ipAddresses[0] ?? "apolo-secrets-webhook",
                dnsNames: managed.dnsNames,
                ipAddresses: managed.ipAddresses,
              },
            },
            onEvent: (event) => {
              if (event.kind === "error")
                logger.warn("certificate rotation failed; retrying", { error: event.error });
              else logger.info(`certificates ${event.kind}`, event);
              // A new pair is in the Secret: read it now rather than at the next poll.
              if (event.kind === "rotated") void source.poll();
            },
          })
        : undefined;
    rotator?.start();
    source.start();
    stopCertificates = async () => {
      source.stop();
      await rotator?.stop();
    };
  } else {
    const tls = new TlsReloader(config.tlsCertFile, config.tlsKeyFile, config.tlsReloadIntervalMs, {
      onLoad: useCertificate,
      onReject: rejectCertificate,
    });
    // Missing files are not fatal: a Secret volume may be filled after the pod starts.
    await tls.load().catch(rejectCertificate);
    tls.start();
    stopCertificates = () => tls.stop();
  }

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
    await listening;
    const inFlight = server?.inFlight ?? 0;
    await server?.drain(config.drainTimeoutMs);
    await stopCertificates();
    cache.stop();
    metricsServer?.close();
    logger.info("stopped", { inFlightAtDrain: inFlight });
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
