// Who may call /mutate. The suite's webhook runs with --client-ca-file, and the API server is
// given a client certificate for it through --admission-control-config-file (as production should
// be set up): pods through the API server are mutated, while a review posted straight to /mutate,
// even one claiming a trusted submitter, gets no HTTP answer at all without that certificate.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { USERS } from "../cluster/control-plane.js";
import { postJson } from "../support/https-client.js";
import { reviewFor } from "../support/replay.js";
import {
  createPod,
  e2e,
  freshNamespace,
  jobPod,
  metricValue,
  putStore,
  readPod,
  storeName,
} from "./support.js";

const local = e2e().local;

/** A review a trusted submitter would send for alice's pod: allowed and mutated if believed. */
function forgedReview(namespace: string) {
  return reviewFor(
    jobPod({ owner: "alice", env: { A: "secret:k" } }) as Parameters<typeof reviewFor>[0],
    "forged-1",
    { username: USERS.platform.name, groups: [...USERS.platform.groups] },
    namespace,
  );
}

/** What a direct caller gets: an HTTP status, or the error of a connection that never answered. */
async function callDirectly(review: unknown, who: { cert: Buffer; key: Buffer } | undefined) {
  if (!local) throw new Error("needs the local control plane");
  try {
    const answer = await postJson(local.webhook.url, review, { ca: local.plane.ca.pem, ...who });
    return {
      status: answer.status,
      body: answer.body as { response?: { allowed?: boolean; patch?: string } },
    };
  } catch (error) {
    return { error: String((error as { code?: string }).code ?? error) };
  }
}

async function handshakeRefusals(): Promise<number> {
  if (!local) throw new Error("needs the local control plane");
  return metricValue(
    local.webhook.metricsPort,
    "apolo_secrets_webhook_tls_refusals_total",
    'reason="handshake"',
  );
}

describe.runIf(local !== undefined)("client certificates between the API server and the webhook", () => {
  it("mutates a pod created through the API server, which presents its client certificate", async () => {
    const ns = await freshNamespace("e2e-mtls");
    await putStore(ns, "alice", ["k"]);
    const created = await createPod("platform", ns, jobPod({ owner: "alice", env: { A: "secret:k" } }));
    const stored = await readPod(ns, created.metadata?.name as string);
    expect(stored.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef).toEqual({
      name: storeName("alice"),
      key: "k",
    });
  });

  it("refuses a review posted straight to /mutate without a client certificate in the TLS handshake", async () => {
    const ns = await freshNamespace("e2e-mtls");
    await putStore(ns, "alice", ["k"]);
    const before = await handshakeRefusals();
    const answer = await callDirectly(forgedReview(ns), undefined);
    expect(answer).not.toHaveProperty("status");
    expect(answer.error).toMatch(/CERTIFICATE_REQUIRED|ECONNRESET|EPIPE|socket hang up/);
    expect(await handshakeRefusals()).toBe(before + 1);
  });

  it("refuses a client certificate from another CA, even one the API server itself trusts", async () => {
    if (!local) throw new Error("unreachable");
    const ns = await freshNamespace("e2e-mtls");
    // alice's own credential for the API server: issued by the cluster CA, not the webhook's client CA.
    const alice = {
      cert: readFileSync(join(local.plane.ca.dir, "user-alice.crt")),
      key: readFileSync(join(local.plane.ca.dir, "user-alice.key")),
    };
    const before = await handshakeRefusals();
    const answer = await callDirectly(forgedReview(ns), alice);
    expect(answer).not.toHaveProperty("status");
    expect(answer.error).toMatch(/UNKNOWN_CA|CERTIFICATE|ECONNRESET|EPIPE|socket hang up/);
    expect(await handshakeRefusals()).toBe(before + 1);
  });

  it("answers the same review when the caller holds the API server's client certificate", async () => {
    if (!local) throw new Error("unreachable");
    const ns = await freshNamespace("e2e-mtls");
    await putStore(ns, "alice", ["k"]);
    const answer = await callDirectly(forgedReview(ns), local.webhook.client);
    expect(answer).toMatchObject({ status: 200, body: { response: { allowed: true } } });
  });

  it("keeps health and readiness reachable without a certificate, on the plain metrics port", async () => {
    if (!local) throw new Error("unreachable");
    const port = local.webhook.metricsPort;
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status)).toBe(200);
    expect(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.text())).toBe("ok\n");
  });
});
