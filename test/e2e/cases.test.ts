// The shared cases, replayed through the real API server where they apply: user scope, and
// submitters the test cluster has (the platform, alice, bob). "Unchanged" is checked against the
// same pod stored by the API server without the webhook (a server dry run in a namespace it does
// not serve: the same defaults, no webhook), and a patched pod sent again must come back as it went in.

import type { V1Pod } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { type AdmissionCase, cases, type PodOut } from "../cases/cases.js";
import { api, createPod, freshNamespace, readPod, refusal, type Who } from "./support.js";

const SUBMITTERS: Record<string, Who> = { alice: "alice", bob: "bob" };
const applicable = cases.filter(
  (c) => (c.scope ?? "user") === "user" && (c.user === undefined || c.user in SUBMITTERS) && !c.groups,
);

let ns: string;
let control: string;
beforeAll(async () => {
  ns = await freshNamespace("e2e-cases");
  control = await freshNamespace("e2e-cases-control", { served: false });
});

/** What the API server makes of a pod when the webhook is not called: spec, labels, annotations. */
async function storedWithoutWebhook(pod: V1Pod): Promise<unknown> {
  const body = structuredClone(pod);
  body.metadata = { ...body.metadata, namespace: control };
  return comparable(await createPod("admin", control, body, { dryRun: true }));
}

function comparable(pod: V1Pod): unknown {
  return {
    labels: pod.metadata?.labels,
    annotations: pod.metadata?.annotations,
    spec: pod.spec,
  };
}

/** The stored pod as a client would send it again: its spec and owner metadata, a new name. */
function sentAgain(stored: V1Pod, name: string): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: ns,
      labels: stored.metadata?.labels,
      annotations: stored.metadata?.annotations,
    },
    spec: stored.spec,
  } as V1Pod;
}

async function withStores(c: AdmissionCase): Promise<void> {
  // Each case sees exactly its own stores.
  const existing = await api("admin").listNamespacedSecret({ namespace: ns });
  for (const secret of existing.items)
    await api("admin").deleteNamespacedSecret({ name: secret.metadata?.name as string, namespace: ns });
  for (const [name, keys] of Object.entries(c.stores)) {
    await api("admin").createNamespacedSecret({
      namespace: ns,
      body: {
        // Labelled as the secrets API labels stores: the webhook reads only labelled ones.
        metadata: { name, labels: { "platform.apolo.us/secrets-store": "true" } },
        type: "Opaque",
        data: Object.fromEntries(keys.map((k) => [k, Buffer.from("v").toString("base64")])),
      },
    });
  }
}

let counter = 0;

describe("shared cases through the API server", () => {
  for (const c of applicable) {
    it(c.name, async () => {
      await withStores(c);
      const pod = structuredClone(c.pod) as unknown as V1Pod;
      const name = `case-${counter++}-${Date.now().toString(36)}`;
      pod.metadata = { ...pod.metadata, name, namespace: ns };
      pod.spec = { ...(pod.spec as V1Pod["spec"] & object), automountServiceAccountToken: false };
      const who: Who = c.user ? (SUBMITTERS[c.user] as Who) : "platform";
      if (!c.expect.allowed) {
        const answer = await refusal(createPod(who, ns, pod));
        expect(answer.code).toBe(c.expect.code);
        const prefix = 'admission webhook "secrets.apolo.us" denied the request: ';
        expect(answer.message.startsWith(prefix), answer.message).toBe(true);
        const message = answer.message.slice(prefix.length);
        if (typeof c.expect.message === "string") expect(message).toBe(c.expect.message);
        else expect(message).toMatch(c.expect.message);
        return;
      }
      await createPod(who, ns, pod);
      const stored = await readPod(ns, name);
      expect(JSON.stringify(stored.spec)).not.toMatch(/"value":"secret:/);
      c.expect.check?.(stored as unknown as PodOut);
      const untouched = await storedWithoutWebhook(pod);
      if (!c.expect.patched) {
        expect(comparable(stored)).toEqual(untouched);
        return;
      }
      expect(comparable(stored)).not.toEqual(untouched);
      // Idempotent end to end: the mutated pod, submitted again, is stored exactly as sent.
      const again = sentAgain(stored, `${name}-again`);
      await createPod(who, ns, again);
      expect(comparable(await readPod(ns, `${name}-again`))).toEqual(await storedWithoutWebhook(again));
    });
  }
});
