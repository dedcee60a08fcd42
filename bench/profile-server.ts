// The webhook's request path as `serve` composes it (app, review handler, logger writing batched
// lines to stdout, metrics, the HTTPS listener), with the bench store held in memory instead of
// the watch: what bench/profile.ts runs under --cpu-prof without a Kubernetes API server.
// Usage: profile-server PORT CERT KEY; exits (writing any profile) on SIGTERM.

import { readFileSync } from "node:fs";
import { BENCH_KEYS, BENCH_OWNER, BENCH_POLICY } from "./pods.js";

// The compiled server (dist/, as `make build` leaves it), so that the profile shows the code that
// runs in production (tsx's transform adds helper calls of its own). PROFILE_FROM=src runs the
// sources, or another build's dist/ folder (an absolute path) to compare with.
const from = process.env.PROFILE_FROM;
const root = from === "src" ? "../src" : (from ?? "../dist");
const load = <T>(path: string) => import(`${root}/${path}`) as Promise<T>;
const { MemorySecretIndex } =
  await load<typeof import("../src/core/secret-index.js")>("core/secret-index.js");
const { createLogger } = await load<typeof import("../src/lifecycle/logger.js")>("lifecycle/logger.js");
const { createApp } = await load<typeof import("../src/server/app.js")>("server/app.js");
const { BodyBudget } = await load<typeof import("../src/server/body-budget.js")>("server/body-budget.js");
const { CertifiedListener } =
  await load<typeof import("../src/server/https-server.js")>("server/https-server.js");
const { createMetrics } = await load<typeof import("../src/server/metrics.js")>("server/metrics.js");
const { createReviewHandler } =
  await load<typeof import("../src/server/review-handler.js")>("server/review-handler.js");

const [port, cert, key] = process.argv.slice(2);
const index = new MemorySecretIndex();
index.set("bench", `user--${BENCH_OWNER}--secrets`, BENCH_KEYS);
const logger = createLogger("info");
const bodyBudget = new BodyBudget(16 * 1024 * 1024);
const metrics = createMetrics({ storeCount: 1, keyCount: BENCH_KEYS.length, synced: true }, bodyBudget);
const app = createApp({
  handleReview: createReviewHandler({
    policy: BENCH_POLICY,
    index,
    refresh: undefined,
    logger,
    metrics,
  }),
  readiness: () => [],
  maxBodyBytes: 7_340_032,
  bodyBudget,
  onBusy: () => metrics.inflightRefusals.inc(),
});
const listener = new CertifiedListener(
  app,
  { host: "127.0.0.1", port: Number(port), keepAliveTimeoutMs: 120_000, maxConnections: 1000 },
  (bound) => process.stderr.write(`profile server listening on ${bound}\n`),
  (error) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
listener.use({ cert: readFileSync(cert as string), key: readFileSync(key as string) });
// A clean exit, so that --cpu-prof and --heap-prof write their files.
process.once("SIGTERM", () => process.exit(0));
