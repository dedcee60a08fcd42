// Starts the baseline server (baseline-server.ts) as a recorded process: the minimal Node HTTPS
// server every webhook figure is compared with, directly (admission, soak) or as the no-op
// webhook behind the API server (api-server).

import { join } from "node:path";
import type { LocalCluster } from "../test/cluster/harness.js";
import { freePort, startProcess, waitFor } from "../test/cluster/processes.js";
import { issueCert } from "../test/support/certs.js";

export interface Baseline {
  /** Its process name in the cluster's pid file (stopProcess takes it). */
  name: string;
  url: string;
  pid: number;
}

export interface BaselineOptions {
  /** A base64 JSON Patch the baseline answers to every review (the same-patch no-op). */
  patchFile?: string;
  /** "floor-server.ts" starts the floor instead (the webhook's answers without its checks). */
  script?: string;
  /** The process's environment (default: the bench's own). */
  env?: NodeJS.ProcessEnv;
}

/** A baseline server with a certificate from the cluster's CA (the webhook's own CA), on loopback. */
export async function startBaseline(
  cluster: LocalCluster,
  name: string,
  options: BaselineOptions = {},
): Promise<Baseline> {
  const { patchFile, script = "baseline-server.ts", env } = options;
  const cert = issueCert(cluster.plane.ca, {
    name,
    commonName: name,
    ips: ["127.0.0.1"],
    usage: "server",
  });
  const port = await freePort();
  const server = join(import.meta.dirname, script);
  const baseline = startProcess(cluster.dir, cluster.plane.pidFile, {
    name,
    command: process.execPath,
    // Node 24 runs the TypeScript file itself (type stripping): no loader in the process whose
    // memory is compared with the webhook's.
    args: [server, String(port), cert.certFile, cert.keyFile, ...(patchFile ? [patchFile] : [])],
    ...(env ? { env } : {}),
  });
  // Plain HTTP to the HTTPS port fails with anything but "refused" once it listens.
  const refused = (e: { cause?: { code?: string } }) => (e.cause?.code === "ECONNREFUSED" ? undefined : true);
  await waitFor(
    `the ${name} server`,
    async () => ((await fetch(`http://127.0.0.1:${port}`).catch(refused)) ? true : undefined),
    20_000,
  );
  return { name, url: `https://127.0.0.1:${port}/mutate`, pid: baseline.pid };
}
