// Wiring of the serving certificate, shared by the webhook and the secrets API: from files (with
// reload), or from a Secret read through the API, optionally issued and rotated by this process.

import type { Counter, Gauge } from "prom-client";
import type { KubeClient } from "../kube/api-client.js";
import { describeError, type Logger } from "../lifecycle/logger.js";
import type { RotationPolicy } from "./rotation.js";
import type { RotatorEvent } from "./rotator.js";
import { SecretCertificateSource } from "./secret-source.js";
import { checkCertificatePair, type LoadedCertificate, TlsReloader } from "./tls-reloader.js";

/** The webhook's own CA and serving certificate, managed in the --tls-secret. */
export interface ManagedCertificates {
  webhookConfigurationName: string;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  caValidityMs: number;
  caRenewBeforeMs: number;
  certificateValidityMs: number;
  certificateRenewBeforeMs: number;
  caOverlapMs: number;
  checkIntervalMs: number;
}

export interface TlsSettings {
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsSecret: { namespace: string; name: string } | undefined;
  tlsReloadIntervalMs: number;
  certificates: ManagedCertificates | undefined;
}

export interface CertificateMetrics {
  tlsReloads: Pick<Counter<"result">, "inc">;
  certificateExpiry: Pick<Gauge, "set">;
}

/** What the sources report to: each new valid pair, each rejected one, each distinct problem. */
interface Report {
  accept(certificate: LoadedCertificate): void;
  reject(error: unknown): void;
  /** True the first time a problem is seen since the last success: say each one once. */
  firstTime(problem: string): boolean;
}

/** Starts the certificate source; `use` gets every new valid pair. Returns the stop function. */
export async function startServingCertificate(
  settings: TlsSettings,
  kube: KubeClient,
  logger: Logger,
  metrics: CertificateMetrics,
  use: (certificate: LoadedCertificate) => void,
): Promise<() => Promise<void>> {
  const report = reporter(logger, metrics, use);
  if (!settings.tlsSecret) return startFromFiles(settings, report);
  return startFromSecret(settings.tlsSecret, settings, kube, logger, report);
}

function reporter(
  logger: Logger,
  metrics: CertificateMetrics,
  use: (certificate: LoadedCertificate) => void,
): Report {
  // Sources poll, so one broken pair or missing Secret would be reported on every poll: say each
  // distinct problem once, until a certificate loads again.
  let lastProblem: string | undefined;
  const firstTime = (problem: string) => {
    const fresh = problem !== lastProblem;
    lastProblem = problem;
    return fresh;
  };
  return {
    firstTime,
    accept: (certificate) => {
      lastProblem = undefined;
      metrics.tlsReloads.inc({ result: "loaded" });
      metrics.certificateExpiry.set(certificate.notAfter.getTime() / 1000);
      logger.info("serving certificate loaded", { notAfter: certificate.notAfter.toISOString() });
      use(certificate);
    },
    reject: (error) => {
      if (!firstTime(describeError(error))) return;
      metrics.tlsReloads.inc({ result: "rejected" });
      logger.warn("serving certificate not (re)loaded; keeping the current one", {
        error: describeError(error),
      });
    },
  };
}

async function startFromFiles(settings: TlsSettings, report: Report): Promise<() => Promise<void>> {
  const tls = new TlsReloader(settings.tlsCertFile, settings.tlsKeyFile, settings.tlsReloadIntervalMs, {
    onLoad: report.accept,
    onReject: report.reject,
  });
  // Missing files are not fatal: a Secret volume may be filled after the pod starts.
  await tls.load().catch(report.reject);
  tls.start();
  return async () => tls.stop();
}

async function startFromSecret(
  secret: { namespace: string; name: string },
  settings: TlsSettings,
  kube: KubeClient,
  logger: Logger,
  report: Report,
): Promise<() => Promise<void>> {
  const { namespace, name } = secret;
  const source = new SecretCertificateSource(kube, namespace, name, settings.tlsReloadIntervalMs, {
    onPair: (cert, key) => {
      try {
        report.accept(checkCertificatePair(cert, key, `Secret ${namespace}/${name}`));
      } catch (error) {
        report.reject(error);
      }
    },
    onError: (error) => {
      if (report.firstTime(error)) logger.warn("serving certificate Secret not usable yet", { error });
    },
  });
  const stopRotator = settings.certificates
    ? await startRotator(kube, secret, settings.certificates, logger, () => void source.poll())
    : async () => {};
  source.start();
  return async () => {
    source.stop();
    await stopRotator();
  };
}

/** With --manage-certificates: issues and rotates the pair in the Secret; `onRotated` reads it now. */
async function startRotator(
  kube: KubeClient,
  secret: { namespace: string; name: string },
  managed: ManagedCertificates,
  logger: Logger,
  onRotated: () => void,
): Promise<() => Promise<void>> {
  // Loaded only when used: certificate generation brings in an X.509 library.
  const { CertificateRotator } = await import("./rotator.js");
  const rotator = new CertificateRotator(kube, {
    namespace: secret.namespace,
    secretName: secret.name,
    webhookConfigurationName: managed.webhookConfigurationName,
    intervalMs: managed.checkIntervalMs,
    policy: rotationPolicy(managed),
    onEvent: (event: RotatorEvent) => {
      if (event.kind === "error")
        logger.warn("certificate rotation failed; retrying", { error: event.error });
      else logger.info(`certificates ${event.kind}`, event);
      // A new pair is in the Secret: read it now rather than at the next poll.
      if (event.kind === "rotated") onRotated();
    },
  });
  rotator.start();
  return () => rotator.stop();
}

function rotationPolicy(managed: ManagedCertificates): RotationPolicy {
  return {
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
  };
}
