// What `serve` and `api` share: listening, shutdown, API access, logging, and the serving
// certificate (files or a Secret, and, with --manage-certificates, the CA and certificate this
// process issues and rotates). Every value is checked whether or not certificates are managed;
// the rules between them apply when they are.

import type { ManagedCertificates } from "../certs/serving-certificate.js";
import type { InClusterService } from "../kube/api-client.js";
import type { LogLevel } from "../lifecycle/logger.js";
import { bindAddressOf, ConfigError, dnsNamesOf, ipAddressesOf, logLevelOf, secretRefOf } from "./checks.js";
import type { CERTIFICATE_OPTIONS, FlagOf, SERVER_OPTIONS } from "./options.js";
import type { Env, Options } from "./reader.js";

/** The webhook's own CA and serving certificate, managed in --tls-secret (the certs/ shape). */
export type CertificateManagement = ManagedCertificates;

export interface ServingCertificateSettings {
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsReloadIntervalMs: number;
  /** Read the serving pair from this Secret instead of files. */
  tlsSecret: { namespace: string; name: string } | undefined;
  certificates: CertificateManagement | undefined;
}

type CertificateFlag = FlagOf<typeof CERTIFICATE_OPTIONS>;

/** Durations and names of managed certificates, checked even when management is off. */
function managedOf(o: Options<CertificateFlag>, webhookConfigurationName: string): CertificateManagement {
  const managed: CertificateManagement = {
    webhookConfigurationName,
    dnsNames: dnsNamesOf(o.named("certificate-dns-names"), o.text("certificate-dns-names")),
    ipAddresses: ipAddressesOf(o.named("certificate-ip-addresses"), o.text("certificate-ip-addresses")),
    caValidityMs: o.duration("ca-validity"),
    caRenewBeforeMs: o.duration("ca-renew-before"),
    certificateValidityMs: o.duration("certificate-validity"),
    certificateRenewBeforeMs: o.duration("certificate-renew-before"),
    caOverlapMs: o.duration("ca-overlap"),
    checkIntervalMs: o.duration("certificate-check-interval"),
  };
  if (managed.caRenewBeforeMs >= managed.caValidityMs)
    throw new ConfigError(
      `${o.named("ca-renew-before")} must be shorter than ${o.named("ca-validity")}, or the CA would be renewed forever`,
    );
  if (managed.certificateRenewBeforeMs >= managed.certificateValidityMs)
    throw new ConfigError(
      `${o.named("certificate-renew-before")} must be shorter than ${o.named("certificate-validity")}, or the certificate would be renewed forever`,
    );
  if (managed.caOverlapMs >= managed.caRenewBeforeMs)
    throw new ConfigError(
      `${o.named("ca-overlap")} must be shorter than ${o.named("ca-renew-before")}: a staged CA must sign before the old one expires`,
    );
  return managed;
}

/** Files or a Secret (not both, not neither); with management, a Secret and the names to issue for. */
export function servingCertificateOf(
  o: Options<CertificateFlag>,
  webhookConfigurationName: string,
): ServingCertificateSettings {
  const tlsCertFile = o.text("tls-cert-file");
  const tlsKeyFile = o.text("tls-key-file");
  const tlsSecret = secretRefOf(o.named("tls-secret"), o.text("tls-secret"));
  if (tlsSecret && (tlsCertFile !== "" || tlsKeyFile !== ""))
    throw new ConfigError(`set either ${o.named("tls-secret")} or the certificate files, not both`);
  if (!tlsSecret && (tlsCertFile === "" || tlsKeyFile === ""))
    throw new ConfigError(
      `${o.named("tls-cert-file")} and ${o.named("tls-key-file")} (or ${o.named("tls-secret")}) are required: the API server only calls webhooks over HTTPS`,
    );
  const managed = managedOf(o, webhookConfigurationName);
  const manage = o.bool("manage-certificates");
  if (manage && !tlsSecret)
    throw new ConfigError(
      `${o.named("manage-certificates")} needs ${o.named("tls-secret")}: the Secret it keeps the certificates in`,
    );
  if (manage && managed.dnsNames.length + managed.ipAddresses.length === 0)
    throw new ConfigError(
      `${o.named("manage-certificates")} needs ${o.named("certificate-dns-names")} or ${o.named("certificate-ip-addresses")}: the names the API server calls`,
    );
  return {
    tlsCertFile,
    tlsKeyFile,
    tlsReloadIntervalMs: o.integer("tls-reload-interval-ms", 100, 3_600_000),
    tlsSecret,
    certificates: manage ? managed : undefined,
  };
}

/** Listening, shutdown, API access and logging, the same for both servers. */
export interface ServerSettings {
  port: number;
  metricsPort: number;
  bindAddress: string;
  keepAliveTimeoutMs: number;
  /** Open HTTPS connections accepted at once (server.maxConnections). */
  maxConnections: number;
  shutdownDelayMs: number;
  drainTimeoutMs: number;
  kubeconfig: string | undefined;
  /** The API server's Service, from the variables the kubelet sets in every pod. */
  inCluster: InClusterService | undefined;
  logLevel: LogLevel;
}

type ServerFlag = FlagOf<typeof SERVER_OPTIONS> | "port" | "metrics-port";

export function serverSettingsOf(o: Options<ServerFlag>, env: Env): ServerSettings {
  const host = env.KUBERNETES_SERVICE_HOST || undefined;
  const settings: ServerSettings = {
    port: o.integer("port", 0, 65535),
    metricsPort: o.integer("metrics-port", 0, 65535),
    bindAddress: bindAddressOf(o.named("bind-address"), o.text("bind-address")),
    keepAliveTimeoutMs: o.integer("keep-alive-timeout-ms", 1_000, 3_600_000),
    maxConnections: o.integer("max-connections", 1, 1_000_000),
    shutdownDelayMs: o.integer("shutdown-delay-ms", 0, 600_000),
    drainTimeoutMs: o.integer("drain-timeout-ms", 0, 600_000),
    kubeconfig: o.text("kubeconfig") || undefined,
    inCluster: host === undefined ? undefined : { host, port: env.KUBERNETES_SERVICE_PORT || "443" },
    logLevel: logLevelOf(o.named("log-level"), o.text("log-level")),
  };
  if (settings.kubeconfig === undefined && settings.inCluster === undefined)
    throw new ConfigError(
      `${o.named("kubeconfig")} is required outside a cluster (KUBERNETES_SERVICE_HOST is unset): the server reads from the Kubernetes API`,
    );
  return settings;
}
