// Wiring of the serving certificate, shared by the webhook and the secrets API: from files (with
// reload), or from a Secret read through the API, optionally issued and rotated by this process.

import { SecretCertificateSource } from "./certs/secret-source.js";
import type { CertificateManagement } from "./config.js";
import type { KubeClient } from "./kube/api-client.js";
import { describeError, type Logger } from "./server/logger.js";
import type { WebhookMetrics } from "./server/metrics.js";
import { checkCertificatePair, type LoadedCertificate, TlsReloader } from "./server/tls-reloader.js";

export interface TlsSettings {
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsSecret: { namespace: string; name: string } | undefined;
  tlsReloadIntervalMs: number;
  certificates: CertificateManagement | undefined;
}

/** Starts the certificate source; `use` gets every new valid pair. Returns the stop function. */
export async function startServingCertificate(
  settings: TlsSettings,
  kube: KubeClient,
  logger: Logger,
  metrics: Pick<WebhookMetrics, "tlsReloads" | "certificateExpiry">,
  use: (certificate: LoadedCertificate) => void,
): Promise<() => Promise<void>> {
  // Sources poll, so one broken pair or missing Secret would be reported on every poll: say each
  // distinct problem once, until a certificate loads again.
  let lastProblem: string | undefined;
  const firstTime = (problem: string) => {
    const fresh = problem !== lastProblem;
    lastProblem = problem;
    return fresh;
  };
  const accept = (certificate: LoadedCertificate) => {
    lastProblem = undefined;
    metrics.tlsReloads.inc({ result: "loaded" });
    metrics.certificateExpiry.set(certificate.notAfter.getTime() / 1000);
    logger.info("serving certificate loaded", { notAfter: certificate.notAfter.toISOString() });
    use(certificate);
  };
  const reject = (error: unknown) => {
    if (!firstTime(describeError(error))) return;
    metrics.tlsReloads.inc({ result: "rejected" });
    logger.warn("serving certificate not (re)loaded; keeping the current one", {
      error: describeError(error),
    });
  };

  if (!settings.tlsSecret) {
    const tls = new TlsReloader(settings.tlsCertFile, settings.tlsKeyFile, settings.tlsReloadIntervalMs, {
      onLoad: accept,
      onReject: reject,
    });
    // Missing files are not fatal: a Secret volume may be filled after the pod starts.
    await tls.load().catch(reject);
    tls.start();
    return async () => tls.stop();
  }

  const { namespace, name } = settings.tlsSecret;
  const source = new SecretCertificateSource(kube, namespace, name, settings.tlsReloadIntervalMs, {
    onPair: (cert, key) => {
      try {
        accept(checkCertificatePair(cert, key, `Secret ${namespace}/${name}`));
      } catch (error) {
        reject(error);
      }
    },
    onError: (error) => {
      if (firstTime(error)) logger.warn("serving certificate Secret not usable yet", { error });
    },
  });
  const managed = settings.certificates;
  let stopRotator: () => Promise<void> = async () => {};
  if (managed) {
    // Loaded only when used: certificate generation brings in an X.509 library.
    const { CertificateRotator } = await import("./certs/rotator.js");
    const rotator = new CertificateRotator(kube, {
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
    });
    rotator.start();
    stopRotator = () => rotator.stop();
  }
  source.start();
  return async () => {
    source.stop();
    await stopRotator();
  };
}
