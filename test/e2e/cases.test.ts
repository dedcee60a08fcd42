// The shared cases, replayed through the real API server where they apply: user scope, and
// submitters the test cluster has (the platform, alice, bob).

import type { V1Pod } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { type AdmissionCase, cases, type PodOut } from "../cases/cases.js";
import { api, createPod, freshNamespace, readPod, refusal, type Who } from "./support.js";

const SUBMITTERS: Record<string, Who> = { alice: "alice", bob: "bob" };
const applicable = cases.filter(
  (c) => (c.scope ?? "user") === "user" && (c.user === undefined || c.user in SUBMITTERS) && !c.groups,
);

let ns: string;
beforeAll(async () => {
  ns = await freshNamespace("e2e-cases");
});

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
    });
  }
});
