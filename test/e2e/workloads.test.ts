// Jobs, CronJobs and Deployments through the real API server and the real controllers
// (kube-controller-manager with one service account per controller): a workload's pod template
// is checked when a person creates or changes it, and the pods the controllers make from it are
// resolved at their own creation, the controller passing the submitter check only.

import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  type V1Container,
  type V1Deployment,
  type V1Job,
  type V1Pod,
  type V1PodTemplateSpec,
} from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../cluster/processes.js";
import { api, freshNamespace, kubeConfig, putStore, refusal, storeName, type Who } from "./support.js";

const JOB_CONTROLLER = "system:serviceaccount:kube-system:job-controller";

function batch(who: Who): BatchV1Api {
  return kubeConfig(who).makeApiClient(BatchV1Api);
}

function apps(who: Who): AppsV1Api {
  return kubeConfig(who).makeApiClient(AppsV1Api);
}

let counter = 0;
function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${counter++}`;
}

/** A pod template the way the platform writes one: the owner label, `secret:` env values. */
function template(owner: string, env: Record<string, string>, containers?: V1Container[]): V1PodTemplateSpec {
  return {
    metadata: { labels: { "platform.apolo.us/user": owner } },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      containers: containers ?? [
        {
          name: "main",
          image: "registry.invalid/job:latest",
          env: Object.entries(env).map(([name, value]) => ({ name, value })),
        },
      ],
    },
  };
}

function job(name: string, podTemplate: V1PodTemplateSpec): V1Job {
  return { metadata: { name }, spec: { backoffLimit: 0, template: podTemplate } };
}

/** The first pod the controllers made with these labels, once it exists. */
async function podOf(namespace: string, selector: string, timeoutMs = 60_000): Promise<V1Pod> {
  return waitFor(
    `a pod with ${selector} in ${namespace}`,
    async () => {
      const list = await api("admin").listNamespacedPod({ namespace, labelSelector: selector });
      return list.items[0];
    },
    timeoutMs,
    250,
  );
}

function firstSecretRef(pod: V1Pod) {
  return pod.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef;
}

describe("workloads: the template is checked where the person acts", () => {
  let ns: string;
  beforeAll(async () => {
    ns = await freshNamespace("e2e-workloads");
    await putStore(ns, "alice", ["k", "token"]);
    await putStore(ns, "bob", ["k"]);
  });

  it("a Job for alice submitted by the platform makes a pod (by the job controller) with the resolved secretKeyRef", async () => {
    const name = uniqueName("train");
    await batch("platform").createNamespacedJob({
      namespace: ns,
      body: job(name, template("alice", { A: "secret:k" })),
    });
    const stored = await batch("admin").readNamespacedJob({ name, namespace: ns });
    // Validated, never rewritten: the template keeps its reference.
    expect(stored.spec?.template.spec?.containers[0]?.env?.[0]?.value).toBe("secret:k");
    const pod = await podOf(ns, `batch.kubernetes.io/job-name=${name}`);
    expect(firstSecretRef(pod)).toEqual({ name: storeName("alice"), key: "k" });
    expect(pod.spec?.containers[0]?.env?.[0]?.value).toBeUndefined();
  });

  it("refuses bob's Job labelled for alice at creation, telling nothing about alice's store", async () => {
    const name = uniqueName("forged");
    const refused = await refusal(
      batch("bob").createNamespacedJob({
        namespace: ns,
        body: job(name, template("alice", { A: "secret:nope" })),
      }),
    );
    expect(refused.code).toBe(403);
    expect(refused.message).toContain(
      "'bob' may not create a Job whose pod template is labelled for owner 'alice'",
    );
    expect(refused.message).not.toContain("Missing");
  });

  it("refuses a Job naming a missing key at creation with exactly Missing secrets", async () => {
    const refused = await refusal(
      batch("platform").createNamespacedJob({
        namespace: ns,
        body: job(uniqueName("missing"), template("alice", { A: "secret:absent", B: "secret:k" })),
      }),
    );
    expect(refused.code).toBe(422);
    expect(refused.message).toMatch(/denied the request: Missing secrets: 'absent'$/);
  });

  it("a Deployment's pods come through the Deployment → ReplicaSet chain resolved; bob cannot relabel its template for alice", async () => {
    const name = uniqueName("serve");
    const labels = { app: name };
    const podTemplate = template("bob", { A: "secret:k" });
    podTemplate.metadata = { labels: { ...podTemplate.metadata?.labels, ...labels } };
    if (podTemplate.spec) podTemplate.spec.restartPolicy = "Always";
    const body: V1Deployment = {
      metadata: { name },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: podTemplate },
    };
    await apps("bob").createNamespacedDeployment({ namespace: ns, body });
    const pod = await podOf(ns, `app=${name}`);
    expect(firstSecretRef(pod)).toEqual({ name: storeName("bob"), key: "k" });

    // A change that leaves the template alone (scaling) is not a new template.
    await apps("bob").patchNamespacedDeployment({
      name,
      namespace: ns,
      body: [{ op: "replace", path: "/spec/replicas", value: 2 }],
    });
    const refused = await refusal(
      apps("bob").patchNamespacedDeployment({
        name,
        namespace: ns,
        body: [
          { op: "replace", path: "/spec/template/metadata/labels/platform.apolo.us~1user", value: "alice" },
        ],
      }),
    );
    expect(refused.code).toBe(403);
    expect(refused.message).toContain(
      "'bob' may not create a Deployment whose pod template is labelled for owner 'alice'",
    );
    const stored = await apps("admin").readNamespacedDeployment({ name, namespace: ns });
    expect(stored.spec?.template.metadata?.labels?.["platform.apolo.us/user"]).toBe("bob");
    expect(stored.spec?.replicas).toBe(2);
  });

  it("a CronJob's first Job (made by the cronjob controller) makes a resolved pod", {
    timeout: 150_000,
  }, async () => {
    const name = uniqueName("nightly");
    const podTemplate = template("alice", { T: "secret:token" });
    podTemplate.metadata = { labels: { ...podTemplate.metadata?.labels, cron: name } };
    await batch("platform").createNamespacedCronJob({
      namespace: ns,
      body: {
        metadata: { name },
        spec: { schedule: "* * * * *", jobTemplate: { spec: { backoffLimit: 0, template: podTemplate } } },
      },
    });
    // The controller acts on the next minute boundary: wait for its Job's pod, however long that is.
    const pod = await podOf(ns, `cron=${name}`, 140_000);
    expect(firstSecretRef(pod)).toEqual({ name: storeName("alice"), key: "token" });
    const jobs = await batch("admin").listNamespacedJob({ namespace: ns });
    const made = jobs.items.find((j) =>
      j.metadata?.ownerReferences?.some((o) => o.kind === "CronJob" && o.name === name),
    );
    expect(made?.spec?.template.spec?.containers[0]?.env?.[0]?.value).toBe("secret:token");
  });

  it("keeps every other check for controllers: a raw secretKeyRef to another owner's store is refused in a template and in a pod the job controller submits", async () => {
    const raw: V1Container[] = [
      {
        name: "main",
        image: "registry.invalid/job:latest",
        env: [{ name: "S", valueFrom: { secretKeyRef: { name: storeName("alice"), key: "k" } } }],
      },
    ];
    const refused = await refusal(
      batch("bob").createNamespacedJob({
        namespace: ns,
        body: job(uniqueName("steal"), template("bob", {}, raw)),
      }),
    );
    expect(refused.code).toBe(403);
    expect(refused.message).toContain(
      `env S of container 'main' uses the secret store '${storeName("alice")}' of 'alice' directly, but this job belongs to 'bob'`,
    );

    const asController = kubeConfig("admin", JOB_CONTROLLER).makeApiClient(CoreV1Api);
    const pod = (labels: Record<string, string>, containers: V1Container[]): V1Pod => ({
      metadata: { name: uniqueName("ctl"), labels },
      spec: { restartPolicy: "Never", automountServiceAccountToken: false, containers },
    });
    const podRefused = await refusal(
      asController.createNamespacedPod({
        namespace: ns,
        body: pod({ "platform.apolo.us/user": "bob" }, raw),
      }),
    );
    expect(podRefused.code).toBe(403);
    expect(podRefused.message).toContain(`uses the secret store '${storeName("alice")}' of 'alice' directly`);

    // The same controller passes the submitter check: its pod for alice is resolved.
    const allowed = await asController.createNamespacedPod({
      namespace: ns,
      body: pod(
        { "platform.apolo.us/user": "alice" },
        template("alice", { A: "secret:k" }).spec?.containers ?? [],
      ),
    });
    expect(firstSecretRef(allowed)).toEqual({ name: storeName("alice"), key: "k" });
    // Anyone else (bob) submitting that pod is still a forged owner.
    const forged = await refusal(
      api("bob").createNamespacedPod({ namespace: ns, body: pod({ "platform.apolo.us/user": "alice" }, []) }),
    );
    expect(forged.code).toBe(403);
  });
});
