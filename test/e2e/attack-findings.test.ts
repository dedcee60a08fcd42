// Attack findings (reviewer's branch): holes shown through the real API server. Each test fails on
// the code it was written against and says what a fix must make true.
//
// Finding 1: planMounts builds one mount per (file entry x target container). Without
// `containers`, an entry targets every regular container, so a pod of N entries and C containers
// makes N*C mounts (plus N*C path-map entries) before anything is checked against size. A 118 KB
// pod (2,000 entries, 2,000 containers), created with --dry-run=server by any user who may create
// pods labelled as themself, kills the webhook with the chart's heap settings (OOM), and every pod
// creation in the served namespaces fails closed until it restarts (and the next such pod kills it
// again).

import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { find, render } from "../chart/helm.js";
import { kubectl } from "../cluster/control-plane.js";
import { stopProcess, waitFor } from "../cluster/processes.js";
import {
  prepareWebhook,
  startWebhook,
  waitForWebhookReady,
  webhookConfiguration,
} from "../cluster/webhook.js";
import { e2e, freshNamespace, putStore, storeName } from "./support.js";

const local = e2e().local;
const LABEL = "attack-findings.apolo.us/served";
const CONFIGURATION = "attack-findings";

/** The chart's NODE_OPTIONS for the webhook container. */
function chartNodeOptions(): string {
  const deployment = find(render(), "Deployment").spec as {
    template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } };
  };
  const env = deployment.template.spec.containers[0]?.env ?? [];
  return env.find((e) => e.name === "NODE_OPTIONS")?.value ?? "";
}

function client(who: "alice"): CoreV1Api {
  if (!local) throw new Error("local only");
  const kc = new KubeConfig();
  kc.loadFromFile(local.plane.kubeconfigs[who]);
  return kc.makeApiClient(CoreV1Api);
}

function alicePod(name: string, files: string[], containers: number): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      labels: { "platform.apolo.us/user": "alice" },
      annotations: { "platform.apolo.us/secret-volumes": JSON.stringify(files) },
    },
    spec: {
      automountServiceAccountToken: false,
      restartPolicy: "Never",
      containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, image: "x" })),
    },
  };
}

describe.runIf(local !== undefined)("attack findings (local control plane)", () => {
  it("finding 1: a 118 KB pod of 2,000 file entries and 2,000 containers does not kill the webhook", async () => {
    if (!local) throw new Error("unreachable");
    // A webhook of our own (the chart's heap settings), registered for namespaces with LABEL only,
    // so a crash here does not disturb the suite's webhook.
    const webhook = await prepareWebhook(local.plane, "webhook-attack", { clientAuth: false });
    webhook.env = { ...webhook.env, NODE_OPTIONS: chartNodeOptions() };
    const managed = startWebhook(local.plane, webhook, "webhook-attack");
    let exited = false;
    void managed.exited.then(() => {
      exited = true;
    });
    const configuration = JSON.parse(webhookConfiguration(webhook.url, local.plane.ca.pem)) as {
      metadata: { name: string };
      webhooks: Array<{ name: string; namespaceSelector: unknown }>;
    };
    configuration.metadata.name = CONFIGURATION;
    for (const hook of configuration.webhooks) {
      hook.name = "attack-findings.apolo.us";
      hook.namespaceSelector = { matchLabels: { [LABEL]: "true" } };
    }
    try {
      await waitForWebhookReady(webhook, managed);
      kubectl(local.plane, "admin", ["apply", "-f", "-"], JSON.stringify(configuration));
      const ns = await freshNamespace("e2e-attack", { served: false });
      kubectl(local.plane, "admin", ["label", "namespace", ns, `${LABEL}=true`]);
      await putStore(ns, "alice", ["k"]);
      const normal = () =>
        client("alice").createNamespacedPod({
          namespace: ns,
          body: alicePod(`normal-${Date.now().toString(36)}`, ["secret:k:/etc/k"], 1),
          dryRun: "All",
        });
      // The configuration reaches the API server after a short lag: wait for a mutated answer.
      const first = await waitFor(
        "the API server to call the attack webhook",
        async () => {
          const pod = await normal().catch(() => undefined);
          return pod?.spec?.volumes?.some((v) => v.secret?.secretName === storeName("alice"))
            ? pod
            : undefined;
        },
        30_000,
        300,
      );
      expect(first.spec?.containers[0]?.volumeMounts?.some((m) => m.subPath === "k")).toBe(true);

      const files = Array.from({ length: 2000 }, (_, i) => `secret:k:/s/${i}`);
      const hostile = alicePod("hostile", files, 2000);
      expect(JSON.stringify(hostile).length).toBeLessThan(120_000);
      // Any answer is fine (a refusal naming the size would be best); the webhook must survive it.
      await client("alice")
        .createNamespacedPod({ namespace: ns, body: hostile, dryRun: "All" })
        .catch((error: unknown) => {
          if (!(error instanceof ApiException)) throw error;
        });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(exited, "the webhook process died (see webhook-attack.log)").toBe(false);
      const after = await normal();
      expect(after.spec?.volumes?.some((v) => v.secret?.secretName === storeName("alice"))).toBe(true);
    } finally {
      try {
        kubectl(local.plane, "admin", [
          "delete",
          "mutatingwebhookconfiguration",
          CONFIGURATION,
          "--ignore-not-found",
        ]);
      } finally {
        await stopProcess(local.plane.pidFile, "webhook-attack");
      }
    }
  }, 120_000);
});
