// Prometheus metrics, served on their own plain-HTTP port so scrapers need no webhook certificate.

import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { listen } from "../lifecycle/listen.js";
import { probeRoutes, type Readiness } from "../lifecycle/probes.js";

/** What the metrics read from the store cache at scrape time. */
export interface CacheStats {
  readonly storeCount: number;
  readonly keyCount: number;
  readonly synced: boolean;
}

export interface WebhookMetrics {
  registry: Registry;
  admissions: Counter<"decision" | "reason">;
  admissionDuration: Histogram<"decision">;
  liveLookups: Counter<"result">;
  tlsReloads: Counter<"result">;
  certificateExpiry: Gauge;
  inflightRefusals: Counter;
  tlsRefusals: Counter<"reason">;
  /**
   * Counts one admission by decision and reason (words from a fixed set, never user text) and,
   * with `seconds`, observes its duration. Use this rather than `admissions.inc`.
   */
  countAdmission(decision: string, reason: string, seconds?: number): void;
}

/** What the metrics read from the body budget at scrape time. */
export interface BodyBudgetStats {
  readonly usedBytes: number;
}

const PREFIX = "apolo_secrets_webhook_";

export function createMetrics(
  cache: CacheStats | undefined,
  bodyBudget?: BodyBudgetStats,
  readiness: Readiness = () => [],
): WebhookMetrics {
  const registry = new Registry();
  registerReadyGauge(registry, readiness);
  if (bodyBudget) registerBodyBudgetGauge(registry, bodyBudget);
  if (cache) registerCacheGauges(registry, cache);
  const admission = admissionMetrics(registry);
  return {
    registry,
    ...admission,
    ...tlsMetrics(registry),
    countAdmission: admissionCounter(admission.admissions, admission.admissionDuration),
  };
}

/**
 * Admissions are tallied here and handed to prom-client when the registry is read (the counter's
 * collect): prom-client builds and hashes a label object on every inc, which over HTTPS cost more
 * than deciding a pod without references (bench/, see the README). The series appear in the order
 * of their first admission, as with inc. The histogram is observed at once, with a label object
 * kept per decision.
 */
function admissionCounter(
  admissions: Counter<"decision" | "reason">,
  duration: Histogram<"decision">,
): WebhookMetrics["countAdmission"] {
  type Tally = { labels: { decision: string; reason: string }; count: number };
  const tallies = new Map<string, Map<string, Tally>>();
  // Flushed in the order of first admission: prom-client writes series in the order it met them.
  const firstSeen: Tally[] = [];
  const durationLabels = new Map<string, { decision: string }>();
  pendingFlushes.set(admissions, () => {
    for (const tally of firstSeen) {
      if (tally.count === 0) continue;
      admissions.inc(tally.labels, tally.count);
      tally.count = 0;
    }
  });
  return (decision, reason, seconds) => {
    let byReason = tallies.get(decision);
    if (byReason === undefined) {
      byReason = new Map();
      tallies.set(decision, byReason);
    }
    const tally = byReason.get(reason);
    if (tally !== undefined) tally.count++;
    else {
      const added = { labels: { decision, reason }, count: 1 };
      byReason.set(reason, added);
      firstSeen.push(added);
    }
    if (seconds === undefined) return;
    let labels = durationLabels.get(decision);
    if (labels === undefined) {
      labels = { decision };
      durationLabels.set(decision, labels);
    }
    duration.observe(labels, seconds);
  };
}

/** What each admissions counter's collect hands over before it is read. */
const pendingFlushes = new WeakMap<Counter<"decision" | "reason">, () => void>();

function admissionMetrics(
  registry: Registry,
): Pick<WebhookMetrics, "admissions" | "admissionDuration" | "liveLookups" | "inflightRefusals"> {
  return {
    admissions: new Counter({
      name: `${PREFIX}admissions_total`,
      help: "Admission reviews answered, by decision (allowed, denied, error) and reason.",
      labelNames: ["decision", "reason"] as const,
      registers: [registry],
      collect() {
        pendingFlushes.get(this)?.();
      },
    }),
    admissionDuration: new Histogram({
      name: `${PREFIX}admission_duration_seconds`,
      help: "Time from a decoded review to its answer, including any live store lookup.",
      labelNames: ["decision"] as const,
      // Sub-millisecond buckets: an in-memory admission takes tens of microseconds.
      // 10 and 30 s: the API server's timeoutSeconds is 1 to 30, and a p99 past the highest finite
      // bucket reads as that bucket, so the latency alert needs buckets above any budget.
      buckets: [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
      ],
      registers: [registry],
    }),
    liveLookups: new Counter({
      name: `${PREFIX}live_lookups_total`,
      help: "Live GETs of one store Secret after a cache miss, by result (found, absent, error, timeout).",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    inflightRefusals: new Counter({
      name: `${PREFIX}inflight_limit_refusals_total`,
      help: "Requests answered 429 because the bytes of review bodies in flight reached --max-inflight-body-bytes.",
      registers: [registry],
    }),
  };
}

function tlsMetrics(
  registry: Registry,
): Pick<WebhookMetrics, "tlsReloads" | "certificateExpiry" | "tlsRefusals"> {
  return {
    tlsReloads: new Counter({
      name: `${PREFIX}tls_reloads_total`,
      help: "Serving certificate loads, by result: loaded, or rejected (each distinct problem counted once until a load succeeds).",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    certificateExpiry: new Gauge({
      name: `${PREFIX}tls_certificate_expiry_timestamp_seconds`,
      help: "Expiry (notAfter) of the serving certificate now in use, as a Unix timestamp.",
      registers: [registry],
    }),
    tlsRefusals: new Counter({
      name: `${PREFIX}tls_refusals_total`,
      help: "Connections refused on the HTTPS port: handshake (failed TLS handshake, e.g. no or an untrusted client certificate) or client-name (a certificate whose CN is not in --client-allowed-names).",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
  };
}

/** Alerts tell "up but not ready" (certificate, cache, shutdown) from "down" with this. */
function registerReadyGauge(registry: Registry, readiness: Readiness): void {
  new Gauge({
    name: `${PREFIX}ready`,
    help: "1 when /readyz answers 200 (certificate loaded, store cache synced, not shutting down), else 0.",
    registers: [registry],
    collect() {
      this.set(readiness().length === 0 ? 1 : 0);
    },
  });
}

function registerBodyBudgetGauge(registry: Registry, bodyBudget: BodyBudgetStats): void {
  new Gauge({
    name: `${PREFIX}inflight_body_bytes`,
    help: "Bytes of review bodies reserved by requests in flight (bounded by --max-inflight-body-bytes).",
    registers: [registry],
    collect() {
      this.set(bodyBudget.usedBytes);
    },
  });
}

function registerCacheGauges(registry: Registry, cache: CacheStats): void {
  new Gauge({
    name: `${PREFIX}store_cache_stores`,
    help: "Store Secrets held in the cache (key names only).",
    registers: [registry],
    collect() {
      this.set(cache.storeCount);
    },
  });
  new Gauge({
    name: `${PREFIX}store_cache_keys`,
    help: "Secret key names held in the cache, over all stores.",
    registers: [registry],
    collect() {
      this.set(cache.keyCount);
    },
  });
  new Gauge({
    name: `${PREFIX}store_cache_synced`,
    help: "1 when the store cache has completed its first list of every watched namespace.",
    registers: [registry],
    collect() {
      this.set(cache.synced ? 1 : 0);
    },
  });
}

/**
 * The plain-HTTP port: /metrics, and /healthz and /readyz again so that probes work before the
 * serving certificate exists (a webhook whose certificate is still being issued is alive).
 */
export function createMetricsServer(registry: Registry, readiness: Readiness = () => []): Server {
  const probes = probeRoutes(readiness);
  return createServer((request, response) =>
    probes(request, response, () => {
      const path = request.url?.split("?")[0];
      if (request.method === "GET" && path === "/metrics") {
        registry
          .metrics()
          .then((text) => {
            response.writeHead(200, { "content-type": registry.contentType });
            response.end(text);
          })
          .catch(() => {
            response.writeHead(500).end();
          });
        return;
      }
      response
        .writeHead(404, { "content-type": "text/plain" })
        .end("not found: this port serves /metrics, /healthz and /readyz\n");
    }),
  );
}

/** Creates the metrics port and listens; resolves with the server (close it to stop). */
export async function startMetricsServer(
  registry: Registry,
  readiness: Readiness,
  host: string,
  port: number,
): Promise<Server> {
  const server = createMetricsServer(registry, readiness);
  await listen(server, host, port);
  return server;
}
