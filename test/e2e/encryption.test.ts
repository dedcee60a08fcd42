// Encrypted at rest, as the product promises ("a secret is a piece of encrypted named data"): the
// test control plane encrypts Secrets with a per-run secretbox key, and this reads a store's bytes
// straight from etcd with etcdctl. A ConfigMap (not encrypted) holding the same text is the
// control: it shows the plaintext would be seen if it were there.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { api, e2e, freshNamespace, putStore, storeName } from "./support.js";

const local = e2e().local;

function etcdValue(key: string): Buffer {
  if (!local) throw new Error("etcd is reachable only on the local control plane");
  return execFileSync(
    local.plane.tools.etcdctl,
    ["--endpoints", local.plane.etcdUrl, "get", key, "--print-value-only"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
}

describe.runIf(local !== undefined)("encryption at rest (local control plane)", () => {
  it("keeps a store's values in etcd only encrypted (k8s:enc:secretbox), never as plaintext", async () => {
    const ns = await freshNamespace("e2e-at-rest");
    const plaintext = `at-rest-${randomBytes(12).toString("hex")}`;
    await putStore(ns, "alice", ["placeholder"]);
    await api("admin").replaceNamespacedSecret({
      name: storeName("alice"),
      namespace: ns,
      body: {
        metadata: {
          name: storeName("alice"),
          namespace: ns,
          labels: { "platform.apolo.us/secrets-store": "true" },
        },
        type: "Opaque",
        data: { db_password: Buffer.from(plaintext).toString("base64") },
      },
    });
    // The API still gives the value back to a reader with the rights: it decrypts.
    const read = await api("admin").readNamespacedSecret({ name: storeName("alice"), namespace: ns });
    expect(Buffer.from(read.data?.db_password ?? "", "base64").toString()).toBe(plaintext);

    const stored = etcdValue(`/registry/secrets/${ns}/${storeName("alice")}`);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.subarray(0, "k8s:enc:".length).toString("latin1")).toBe("k8s:enc:");
    expect(stored.toString("latin1")).toMatch(/^k8s:enc:secretbox:v1:run-key:/);
    const raw = stored.toString("latin1");
    expect(raw).not.toContain(plaintext);
    expect(raw).not.toContain(Buffer.from(plaintext).toString("base64"));
    expect(raw).not.toContain("db_password");

    // The control: an unencrypted resource with the same text shows in etcd as it is.
    await api("admin").createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "control" }, data: { text: plaintext } },
    });
    expect(etcdValue(`/registry/configmaps/${ns}/control`).toString("latin1")).toContain(plaintext);
  });
});
