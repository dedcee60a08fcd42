// Store Secrets written straight to etcd in batches, for sizes the API server would take too
// long to create one by one (on two shared cores it creates about 60-100 Secrets a second, so
// 100,000 would take 20-30 minutes). Each value is the Secret as JSON, under the key the API
// server uses (/registry/secrets/NAMESPACE/NAME); the API server reads unprefixed values through
// the `identity` provider after its encryption provider, decodes JSON as well as protobuf, and
// its watch on etcd delivers them to its watch cache: the webhook then lists and watches them
// through the API server exactly as it would Secrets created through it.

import { randomUUID } from "node:crypto";
import { storeBody } from "./common.js";

/** etcd's default --max-txn-ops: puts per transaction. */
const PUTS_PER_TXN = 128;
const PARALLEL = 4;

const b64 = (text: string) => Buffer.from(text).toString("base64");

/** The JSON the API server would store for this store Secret (it sets resourceVersion from etcd). */
export function storedSecret(namespace: string, owner: string, keys: readonly string[], now: string) {
  const body = storeBody(owner, keys);
  return {
    kind: "Secret",
    apiVersion: "v1",
    metadata: { ...body.metadata, namespace, uid: randomUUID(), creationTimestamp: now },
    type: body.type,
    data: body.data,
  };
}

/** Puts in one transaction; returns etcd's revision after it. */
async function putBatch(etcdUrl: string, puts: Array<{ key: string; value: string }>): Promise<number> {
  // etcd's JSON gateway to its KV API (bytes in base64): one transaction, all puts, no compare.
  const response = await fetch(`${etcdUrl}/v3/kv/txn`, {
    method: "POST",
    body: JSON.stringify({ success: puts.map((put) => ({ requestPut: put })) }),
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok)
    throw new Error(`etcd answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const answer = (await response.json()) as { header?: { revision?: string } };
  const revision = Number(answer.header?.revision);
  if (!Number.isSafeInteger(revision))
    throw new Error(`etcd answered no revision: ${JSON.stringify(answer)}`);
  return revision;
}

/**
 * Writes `owners` store Secrets (owner-0 … owner-N-1) into `namespace` (which must exist); returns
 * etcd's revision after the last write, which the API server's watch cache must reach.
 */
export async function writeStoresToEtcd(
  etcdUrl: string,
  namespace: string,
  owners: number,
  keys: readonly string[],
): Promise<number> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  let next = 0;
  let revision = 0;
  const worker = async () => {
    while (next < owners) {
      const first = next;
      next = Math.min(owners, next + PUTS_PER_TXN);
      const puts = [];
      for (let i = first; i < next; i++) {
        const secret = storedSecret(namespace, `owner-${i}`, keys, now);
        puts.push({
          key: b64(`/registry/secrets/${namespace}/${secret.metadata.name}`),
          value: b64(JSON.stringify(secret)),
        });
      }
      revision = Math.max(revision, await putBatch(etcdUrl, puts));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return revision;
}
