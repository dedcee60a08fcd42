// The webhook called by a real kube-apiserver over TLS: references resolved, refusals seen by the
// client, no bypass, forged owners, unserved namespaces, dry run, ephemeral containers.

import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  createPod,
  e2e,
  freshNamespace,
  jobPod,
  podExists,
  putStore,
  readPod,
  refusal,
  storeName,
} from "./support.js";

let ns: string;
const { users, clusterName } = e2e();

beforeAll(async () => {
  ns = await freshNamespace("e2e-admit");
  await putStore(ns, "alice", ["db_password", "hf_token", "gcp-key"]);
  await putStore(ns, "bob", ["db_password"]);
});

describe("admission through the API server", () => {
  it("stores a secretKeyRef in place of a secret: env value", async () => {
    const created = await createPod(
      "platform",
      ns,
      jobPod({
        owner: "alice",
        env: { MODE: "train", DB: "secret:db_password", TOKEN: `secret://${clusterName}/alice/hf_token` },
      }),
    );
    const stored = await readPod(ns, created.metadata?.name as string);
    const env = stored.spec?.containers[0]?.env ?? [];
    expect(env.map((e) => e.name)).toEqual(["MODE", "DB", "TOKEN"]);
    expect(env[0]).toEqual({ name: "MODE", value: "train" });
    expect(env[1]).toEqual({
      name: "DB",
      valueFrom: { secretKeyRef: { name: storeName("alice"), key: "db_password" } },
    });
    expect(env[2]?.valueFrom?.secretKeyRef).toEqual({ name: storeName("alice"), key: "hf_token" });
    expect(JSON.stringify(stored)).not.toContain("secret:");
  });

  it("mounts files named by the platform.apolo.us/secret-volumes annotation", async () => {
    const created = await createPod(
      "platform",
      ns,
      jobPod({
        owner: "alice",
        files: [
          "secret:gcp-key:/var/secrets/gcp.json",
          { uri: "secret:hf_token", mountPath: "/etc/hf/token" },
        ],
      }),
    );
    const stored = await readPod(ns, created.metadata?.name as string);
    const volume = stored.spec?.volumes?.find((v) => v.secret?.secretName === storeName("alice"));
    expect(volume?.name).toBe("apolo-secrets-alice");
    expect(volume?.secret?.defaultMode).toBe(0o400);
    const mounts = stored.spec?.containers[0]?.volumeMounts?.filter((m) => m.name === volume?.name);
    expect(mounts).toEqual([
      { name: "apolo-secrets-alice", mountPath: "/var/secrets/gcp.json", subPath: "gcp-key", readOnly: true },
      { name: "apolo-secrets-alice", mountPath: "/etc/hf/token", subPath: "hf_token", readOnly: true },
    ]);
  });

  it("refuses a reference to another owner's secret and tells the client why", async () => {
    const pod = jobPod({ owner: "alice", env: { DB: "secret:/bob/db_password" } });
    const answer = await refusal(createPod("platform", ns, pod));
    expect(answer.code).toBe(403);
    expect(answer.message).toContain("names a secret of 'bob', but this job belongs to 'alice'");
    expect(await podExists(ns, pod.metadata?.name as string)).toBe(false);
  });

  it("refuses missing keys with the platform's message", async () => {
    const answer = await refusal(
      createPod(
        "platform",
        ns,
        jobPod({ owner: "alice", env: { A: "secret:nope", B: "secret:also_missing" } }),
      ),
    );
    expect(answer.code).toBe(422);
    expect(answer.message).toContain("Missing secrets: 'also_missing', 'nope'");
  });

  // The watch may bring the key in before the pod arrives, so this does not prove the live
  // lookup: documented-behaviour.test.ts does, with a store no watch of its webhook can see.
  it("admits a secret added to the store immediately before the pod", async () => {
    await putStore(ns, "alice", ["db_password", "hf_token", "gcp-key", "brand_new"]);
    const created = await createPod(
      "platform",
      ns,
      jobPod({ owner: "alice", env: { NEW: "secret:brand_new" } }),
    );
    const stored = await readPod(ns, created.metadata?.name as string);
    expect(stored.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef?.key).toBe("brand_new");
  });

  it("refuses direct use of another owner's store: secretKeyRef, envFrom and a secret volume", async () => {
    const bobs = storeName("bob");
    const pods = [
      jobPod({
        owner: "alice",
        containers: [
          {
            name: "c",
            image: "x",
            env: [{ name: "S", valueFrom: { secretKeyRef: { name: bobs, key: "db_password" } } }],
          },
        ],
      }),
      jobPod({
        owner: "alice",
        containers: [{ name: "c", image: "x", envFrom: [{ secretRef: { name: bobs } }] }],
      }),
      jobPod({
        owner: "alice",
        volumes: [{ name: "v", secret: { secretName: bobs } }],
        containers: [{ name: "c", image: "x" }],
      }),
      jobPod({ containers: [{ name: "c", image: "x", envFrom: [{ secretRef: { name: bobs } }] }] }),
    ];
    for (const pod of pods) {
      const answer = await refusal(createPod("platform", ns, pod));
      expect(answer.code).toBe(403);
      expect(answer.message).toContain(`uses the secret store '${bobs}' of 'bob' directly`);
    }
  });

  it("refuses an owner label forged by bob, and admits the platform submitting for alice", async () => {
    const forged = await refusal(
      createPod("bob", ns, jobPod({ owner: "alice", env: { A: "secret:db_password" } })),
    );
    expect(forged.code).toBe(403);
    expect(forged.message).toContain(`'${users.bob}' may not submit a job for owner 'alice'`);
    const own = await createPod("alice", ns, jobPod({ owner: "alice", env: { A: "secret:db_password" } }));
    expect(
      (await readPod(ns, own.metadata?.name as string)).spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef
        ?.name,
    ).toBe(storeName("alice"));
    const platform = await createPod(
      "platform",
      ns,
      jobPod({ owner: "alice", env: { A: "secret:db_password" } }),
    );
    expect(await podExists(ns, platform.metadata?.name as string)).toBe(true);
  });

  it("answers a server-side dry run exactly like a real request, and stores nothing", async () => {
    const pod = jobPod({ owner: "alice", env: { A: "secret:db_password" } });
    const dry = await createPod("platform", ns, pod, { dryRun: true });
    expect(dry.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef).toEqual({
      name: storeName("alice"),
      key: "db_password",
    });
    expect(await podExists(ns, pod.metadata?.name as string)).toBe(false);
    const refused = await refusal(
      createPod("platform", ns, jobPod({ owner: "alice", env: { A: "secret:/bob/db_password" } }), {
        dryRun: true,
      }),
    );
    expect(refused.code).toBe(403);
  });

  it("resolves a secret: env value in an ephemeral container and refuses one naming another owner's store", async () => {
    const created = await createPod(
      "platform",
      ns,
      jobPod({ owner: "alice", env: { A: "secret:db_password" } }),
    );
    const name = created.metadata?.name as string;
    const current = await readPod(ns, name);
    const debug = {
      ...current,
      spec: {
        ...current.spec,
        containers: current.spec?.containers ?? [],
        ephemeralContainers: [
          { name: "debug", image: "busybox", env: [{ name: "TOKEN", value: "secret:hf_token" }] },
        ],
      },
    };
    await api("alice").replaceNamespacedPodEphemeralcontainers({ name, namespace: ns, body: debug });
    const stored = await readPod(ns, name);
    expect(stored.spec?.ephemeralContainers?.[0]?.env?.[0]).toEqual({
      name: "TOKEN",
      valueFrom: { secretKeyRef: { name: storeName("alice"), key: "hf_token" } },
    });

    const bad = await readPod(ns, name);
    const foreign = {
      ...bad,
      spec: {
        ...bad.spec,
        containers: bad.spec?.containers ?? [],
        ephemeralContainers: [
          ...(bad.spec?.ephemeralContainers ?? []),
          { name: "debug2", image: "busybox", envFrom: [{ secretRef: { name: storeName("bob") } }] },
        ],
      },
    };
    const answer = await refusal(
      api("alice").replaceNamespacedPodEphemeralcontainers({ name, namespace: ns, body: foreign }),
    );
    expect(answer.code).toBe(403);
    expect(answer.message).toContain(
      `envFrom of ephemeral container 'debug2' uses the secret store '${storeName("bob")}'`,
    );
    expect((await readPod(ns, name)).spec?.ephemeralContainers).toHaveLength(1);
  });
});

describe("namespaces the webhook does not serve", () => {
  it("leaves pods in an unlabelled namespace untouched", async () => {
    const plain = await freshNamespace("e2e-unserved", { served: false });
    const created = await createPod(
      "admin",
      plain,
      jobPod({ owner: "alice", env: { A: "secret:db_password" } }),
    );
    expect((await readPod(plain, created.metadata?.name as string)).spec?.containers[0]?.env?.[0]).toEqual({
      name: "A",
      value: "secret:db_password",
    });
  });

  it("never intercepts kube-system or the webhook's own namespace, even when labelled as served", async () => {
    for (const namespace of ["kube-system", e2e().webhookNamespace]) {
      await freshNamespace("unused", { name: namespace });
      const created = await createPod("admin", namespace, jobPod({ env: { A: "secret:x" } }));
      expect(
        (await readPod(namespace, created.metadata?.name as string)).spec?.containers[0]?.env?.[0]?.value,
      ).toBe("secret:x");
    }
  });
});
