// Least privilege against the real API server: the webhook asks only for labelled store Secrets.
// An unlabelled Secret named like a store is neither cached nor found by the live lookup (the job
// is refused as if it did not exist, with a value-free hint in the log); labelling it, as the
// README's upgrade one-liner does, makes it a store. The API server's audit log shows that every
// list and watch of Secrets by the webhook's user carried one of the label selectors.

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { USERS } from "../cluster/control-plane.js";
import { waitFor } from "../cluster/processes.js";
import {
  api,
  createPod,
  e2e,
  freshNamespace,
  jobPod,
  metricValue,
  putStore,
  readPod,
  refusal,
  storeName,
} from "./support.js";

const local = e2e().local;
const SELECTORS = ["platform.apolo.us/secrets-store=true", "platform.neuromation.io/secret-api-org-name"];
const PREFIX = "apolo_secrets_webhook_";

async function metric(name: string, labels = ""): Promise<number> {
  if (!local) throw new Error("metrics need the local webhook");
  return metricValue(local.webhook.metricsPort, PREFIX + name, labels);
}

/** An Opaque Secret named like carol's store, with no label at all (made before the upgrade). */
async function unlabelledStore(namespace: string, owner: string, keys: string[]): Promise<void> {
  await api("admin").createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: storeName(owner) },
      type: "Opaque",
      data: Object.fromEntries(keys.map((k) => [k, Buffer.from(`plain-${k}`).toString("base64")])),
    },
  });
}

interface AuditEvent {
  verb: string;
  requestURI: string;
  user: { username: string };
  objectRef?: { resource?: string; namespace?: string; name?: string };
}

function webhookSecretRequests(): AuditEvent[] {
  if (!local) return [];
  return readFileSync(local.plane.auditLog, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as AuditEvent)
    .filter((e) => e.user.username === USERS.webhook.name && e.objectRef?.resource === "secrets");
}

describe.runIf(local !== undefined)("least privilege (local control plane)", () => {
  it("does not cache an unlabelled Secret named like a store, and refuses jobs that reference it even after the live lookup", async () => {
    const ns = await freshNamespace("e2e-leastpriv");
    const storesBefore = await metric("store_cache_stores");
    const keysBefore = await metric("store_cache_keys");

    await unlabelledStore(ns, "carol", ["k1", "k2", "k3"]);
    await putStore(ns, "dave", ["k1"]);
    // Watch events arrive in resourceVersion order: once dave's store (made second) is cached,
    // carol's would be too if the webhook received it. One store and one key more: dave's alone.
    await waitFor(
      "the cache to hold dave's labelled store",
      async () => ((await metric("store_cache_stores")) >= storesBefore + 1 ? true : undefined),
      30_000,
    );
    expect(await metric("store_cache_stores")).toBe(storesBefore + 1);
    expect(await metric("store_cache_keys")).toBe(keysBefore + 1);

    const absentBefore = await metric("live_lookups_total", 'result="absent"');
    const pod = jobPod({ owner: "carol", env: { A: "secret:k1" } });
    const answer = await refusal(createPod("platform", ns, pod));
    expect(answer.code).toBe(422);
    expect(answer.message).toContain("Missing secrets: 'k1'");
    // The miss was looked up live, with the selectors, and found nothing to use.
    expect(await metric("live_lookups_total", 'result="absent"')).toBe(absentBefore + 1);
    expect(await metric("store_cache_stores")).toBe(storesBefore + 1);

    // The log says why, naming the store and never a value.
    const logFile = join(local?.plane.dir as string, "webhook.log");
    const hint = await waitFor(
      "the unlabelled-store hint in the webhook log",
      async () =>
        readFileSync(logFile, "utf8")
          .split("\n")
          .find((l) => l.includes("matches no --secret-label-selector") && l.includes(ns)),
      10_000,
    );
    expect(hint).toContain(storeName("carol"));
    expect(readFileSync(logFile, "utf8")).not.toContain("plain-k1");

    const created = await createPod("platform", ns, jobPod({ owner: "dave", env: { A: "secret:k1" } }));
    const stored = await readPod(ns, created.metadata?.name as string);
    expect(stored.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef).toEqual({
      name: storeName("dave"),
      key: "k1",
    });
  });

  it("makes a store of an old Secret once it is labelled with the README's upgrade command", async () => {
    if (!local) return;
    const ns = await freshNamespace("e2e-relabel");
    await unlabelledStore(ns, "erin", ["token"]);
    expect(
      (await refusal(createPod("platform", ns, jobPod({ owner: "erin", env: { T: "secret:token" } }))))
        .message,
    ).toContain("Missing secrets: 'token'");

    // The README's one-liner for user stores, run as written (kubectl on PATH, KUBECONFIG set).
    const bin = join(local.plane.dir, "readme-bin");
    mkdirSync(bin, { recursive: true });
    try {
      symlinkSync(local.plane.tools.kubectl, join(bin, "kubectl"));
    } catch {
      // already linked by an earlier run of this test
    }
    const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
    const command = readme
      .split("\n")
      .find((l) => l.startsWith("kubectl get secrets --all-namespaces") && l.includes("user--"));
    expect(command, "the README's labelling one-liner for user stores").toBeDefined();
    execFileSync("bash", ["-o", "pipefail", "-c", command as string], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, KUBECONFIG: local.plane.kubeconfigs.admin },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const labels = (await api("admin").readNamespacedSecret({ name: storeName("erin"), namespace: ns }))
      .metadata?.labels;
    expect(labels).toMatchObject({ "platform.apolo.us/secrets-store": "true" });

    const created = await waitFor(
      "erin's job to be admitted once her store is labelled",
      async () =>
        createPod("platform", ns, jobPod({ owner: "erin", env: { T: "secret:token" } })).catch(
          () => undefined,
        ),
      30_000,
      300,
    );
    const stored = await readPod(ns, created.metadata?.name as string);
    expect(stored.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef?.name).toBe(storeName("erin"));
  });

  it("asks the API server only for labelled Secrets: every list and watch of the webhook's user carries a selector", async () => {
    const requests = webhookSecretRequests();
    const collection = requests.filter((e) => e.verb === "list" || e.verb === "watch");
    const selectorOf = (e: AuditEvent) =>
      new URL(e.requestURI, "https://apiserver.invalid").searchParams.get("labelSelector");
    // The cache's lists and watches, one per selector, and the live lookups' lists.
    for (const selector of SELECTORS) {
      expect(collection.some((e) => e.verb === "watch" && selectorOf(e) === selector)).toBe(true);
      expect(collection.some((e) => e.verb === "list" && selectorOf(e) === selector)).toBe(true);
    }
    const unselected = collection.filter((e) => !SELECTORS.includes(selectorOf(e) ?? ""));
    expect(unselected.map((e) => `${e.verb} ${e.requestURI}`)).toEqual([]);
  });
});
