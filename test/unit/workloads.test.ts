// Workload kinds (Job, CronJob, Deployment, ReplicaSet, StatefulSet, DaemonSet): the decoder finds
// the pod template, the core checks it as a pod submitted by the requesting user and never patches
// it; the built-in controllers pass the submitter check only.

import { describe, expect, it } from "vitest";
import { decodeReview } from "../../src/admission/decode.js";
import { admit } from "../../src/core/admit.js";
import type { Policy } from "../../src/core/policy.js";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { createLogger } from "../../src/lifecycle/logger.js";
import { createReviewHandler } from "../../src/server/review-handler.js";

const PLATFORM = "system:serviceaccount:platform:api";
const JOB_CONTROLLER = "system:serviceaccount:kube-system:job-controller";
const CRONJOB_CONTROLLER = "system:serviceaccount:kube-system:cronjob-controller";

const policy: Policy = {
  scope: "user",
  clusterName: "prod",
  trustedUsers: new Set([PLATFORM]),
  trustedGroups: new Set(),
  trustedControllers: new Set([JOB_CONTROLLER, CRONJOB_CONTROLLER]),
};

function index(): MemorySecretIndex {
  const i = new MemorySecretIndex();
  i.set("jobs", "user--alice--secrets", ["k"]);
  i.set("jobs", "user--bob--secrets", ["k"]);
  return i;
}

type Json = Record<string, unknown>;

function podTemplate(owner: string | undefined, env: Json[], annotations?: Json): Json {
  return {
    metadata: {
      ...(owner ? { labels: { "platform.apolo.us/user": owner } } : {}),
      ...(annotations ? { annotations } : {}),
    },
    spec: { containers: [{ name: "main", image: "x", env }] },
  };
}

const KINDS: Record<string, { group: string; resource: string; wrap: (t: Json) => Json }> = {
  Job: { group: "batch", resource: "jobs", wrap: (t) => ({ template: t }) },
  CronJob: {
    group: "batch",
    resource: "cronjobs",
    wrap: (t) => ({ schedule: "* * * * *", jobTemplate: { spec: { template: t } } }),
  },
  Deployment: { group: "apps", resource: "deployments", wrap: (t) => ({ template: t }) },
  ReplicaSet: { group: "apps", resource: "replicasets", wrap: (t) => ({ template: t }) },
  StatefulSet: { group: "apps", resource: "statefulsets", wrap: (t) => ({ template: t }) },
  DaemonSet: { group: "apps", resource: "daemonsets", wrap: (t) => ({ template: t }) },
  // Not trusted by default, but a shared controller identity covers the replication controller.
  ReplicationController: { group: "", resource: "replicationcontrollers", wrap: (t) => ({ template: t }) },
};

function review(
  kind: string,
  template: Json,
  user: string,
  options: { operation?: string; old?: Json; subResource?: string } = {},
): Json {
  const k = KINDS[kind] as (typeof KINDS)[string];
  const object = (t: Json) => ({
    apiVersion: k.group === "" ? "v1" : `${k.group}/v1`,
    kind,
    metadata: { name: "w" },
    spec: k.wrap(t),
  });
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "u",
      kind: { group: k.group, version: "v1", kind },
      resource: { group: k.group, version: "v1", resource: k.resource },
      subResource: options.subResource,
      name: "w",
      namespace: "jobs",
      operation: options.operation ?? "CREATE",
      userInfo: { username: user, groups: ["system:authenticated"] },
      object: object(template),
      oldObject: options.old ? object(options.old) : null,
    },
  };
}

function decide(body: Json) {
  const decoded = decodeReview(body);
  if (decoded.kind !== "review") throw new Error(decoded.message);
  return admit(decoded.request, policy, index());
}

describe("workload templates", () => {
  for (const kind of Object.keys(KINDS)) {
    it(`${kind}: a valid template is allowed with no patch; a forged owner, a missing key and another owner's store are refused`, () => {
      const ok = decide(review(kind, podTemplate("alice", [{ name: "A", value: "secret:k" }]), "alice"));
      expect(ok.verdict).toEqual({ allowed: true, patch: [] });
      expect(ok.reason).toBe("template-checked");

      const forged = decide(review(kind, podTemplate("alice", [{ name: "A", value: "secret:nope" }]), "bob"));
      expect(forged.verdict).toMatchObject({
        allowed: false,
        code: 403,
        message: `'bob' may not create a ${kind} whose pod template is labelled for owner 'alice': only the owner or a trusted submitter may create workloads labelled for it`,
      });
      expect(forged.missingIn).toBeUndefined();

      const missing = decide(
        review(kind, podTemplate("alice", [{ name: "A", value: "secret:nope" }]), PLATFORM),
      );
      expect(missing.verdict).toMatchObject({
        allowed: false,
        code: 422,
        message: "Missing secrets: 'nope'",
      });
      expect(missing.missingIn).toEqual({ namespace: "jobs", store: "user--alice--secrets" });

      const raw = [{ name: "S", valueFrom: { secretKeyRef: { name: "user--alice--secrets", key: "k" } } }];
      const foreign = decide(review(kind, podTemplate("bob", raw), "bob"));
      expect(foreign.verdict).toMatchObject({ allowed: false, code: 403 });
      expect(foreign.reason).toBe("foreign-store");
    });
  }

  it("names the workload where the pod wording would say 'this pod'", () => {
    const refs = decide(review("Job", podTemplate(undefined, [{ name: "A", value: "secret:k" }]), "bob"));
    expect(refs.verdict).toMatchObject({
      code: 403,
      message:
        "This Job's pod template uses secret references (env A of container 'main') but has no owner: the label platform.apolo.us/user must name the job's owner, as the platform sets them",
    });
    const raw = [{ name: "S", valueFrom: { secretKeyRef: { name: "user--alice--secrets", key: "k" } } }];
    const store = decide(review("Deployment", podTemplate(undefined, raw), "bob"));
    expect(store.verdict).toMatchObject({
      code: 403,
      message:
        "env S of container 'main' uses the secret store 'user--alice--secrets' of 'alice' directly, but this Deployment's pod template has no owner: use secret:KEY references to your own secrets instead",
    });
  });

  it("checks the reference grammar, the owner of references and the files annotation of a template", () => {
    const annotations = { "platform.apolo.us/secret-volumes": JSON.stringify(["secret:k:relative"]) };
    const result = decide(
      review("CronJob", podTemplate("alice", [{ name: "A", value: "secret:/bob/k" }], annotations), "alice"),
    );
    expect(result.verdict).toMatchObject({ allowed: false, code: 403 });
    const message = (result.verdict as { message: string }).message;
    expect(message).toContain("names a secret of 'bob', but this job belongs to 'alice'");
    expect(message).toContain("Invalid mount path 'relative'");
  });

  it("an UPDATE that leaves the template unchanged is allowed without a check; a changed one is checked", () => {
    const stored = podTemplate("alice", [{ name: "A", value: "secret:gone" }]);
    const scaled = decide(review("Deployment", stored, "bob", { operation: "UPDATE", old: stored }));
    expect(scaled.verdict).toEqual({ allowed: true, patch: [] });
    expect(scaled.reason).toBe("template-unchanged");

    const relabelled = podTemplate("alice", [{ name: "A", value: "secret:k" }]);
    const before = podTemplate("bob", [{ name: "A", value: "secret:k" }]);
    const changed = decide(review("Deployment", relabelled, "bob", { operation: "UPDATE", old: before }));
    expect(changed.verdict).toMatchObject({ allowed: false, code: 403 });
    expect(changed.reason).toBe("forged-owner");
  });

  it("trusts the built-in controllers for the submitter check only, for pods and workloads", () => {
    const cron = decide(
      review("Job", podTemplate("alice", [{ name: "A", value: "secret:k" }]), CRONJOB_CONTROLLER),
    );
    expect(cron.verdict.allowed).toBe(true);
    const pod = (labels: Json, env: Json[]) => ({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: "p",
        kind: { group: "", version: "v1", kind: "Pod" },
        resource: { group: "", version: "v1", resource: "pods" },
        namespace: "jobs",
        operation: "CREATE",
        userInfo: { username: JOB_CONTROLLER, groups: [] },
        object: { metadata: { labels }, spec: { containers: [{ name: "main", env }] } },
      },
    });
    const resolved = decide(pod({ "platform.apolo.us/user": "alice" }, [{ name: "A", value: "secret:k" }]));
    expect(resolved.reason).toBe("mutated");
    const raw = [{ name: "S", valueFrom: { secretKeyRef: { name: "user--alice--secrets", key: "k" } } }];
    const foreign = decide(pod({ "platform.apolo.us/user": "bob" }, raw));
    expect(foreign.verdict).toMatchObject({ allowed: false, code: 403 });
    const missing = decide(pod({ "platform.apolo.us/user": "alice" }, [{ name: "A", value: "secret:nope" }]));
    expect(missing.verdict).toMatchObject({ allowed: false, code: 422, message: "Missing secrets: 'nope'" });
    // Not trusted: the same pod from a user who is not alice.
    const body = pod({ "platform.apolo.us/user": "alice" }, []);
    (body.request.userInfo as { username: string }).username = "system:serviceaccount:kube-system:other";
    expect(decide(body).reason).toBe("forged-owner");
  });

  it("ignores other operations, subresources and workloads without an object", () => {
    const t = podTemplate("alice", [{ name: "A", value: "secret:nope" }]);
    expect(
      decide(review("Job", t, "bob", { subResource: "status", operation: "UPDATE", old: t })).reason,
    ).toBe("ignored");
    const del = review("Job", t, "bob", { operation: "DELETE" });
    (del.request as Json).object = null;
    expect(decide(del).reason).toBe("ignored");
  });

  it("refuses a template of the wrong shape with a 400 naming the path", () => {
    const bad = review("CronJob", podTemplate("alice", []), "alice");
    ((bad.request as Json).object as Json).spec = {
      jobTemplate: { spec: { template: { spec: { containers: 3 } } } },
    };
    const decoded = decodeReview(bad);
    expect(decoded).toMatchObject({
      kind: "decode-error",
      message: "request.object.spec.jobTemplate.spec.template.spec.containers must be a list",
    });
    const noTemplate = review("Job", podTemplate("alice", []), "alice");
    ((noTemplate.request as Json).object as Json).spec = {};
    expect(decodeReview(noTemplate)).toMatchObject({
      message: "request.object.spec.template must be an object",
    });
  });

  it("through the review handler: a missing key is looked up live once, and the log line names the workload", async () => {
    const lines: string[] = [];
    const lookups: string[] = [];
    const memory = index();
    const handler = createReviewHandler({
      policy,
      index: memory,
      refresh: async (namespace, store) => {
        lookups.push(`${namespace}/${store}`);
        memory.set(namespace, store, ["k", "fresh"]);
        return "found";
      },
      logger: createLogger("info", (line) => lines.push(line)),
      metrics: undefined,
    });
    const answer = await handler(
      review("Job", podTemplate("alice", [{ name: "A", value: "secret:fresh" }]), PLATFORM),
    );
    expect(answer.body).toMatchObject({ response: { allowed: true } });
    expect((answer.body as { response: { patch?: string } }).response.patch).toBeUndefined();
    expect(lookups).toEqual(["jobs/user--alice--secrets"]);
    const logged = JSON.parse(lines.at(-1) ?? "{}");
    expect(logged).toMatchObject({ pod: "w", workload: "Job", owner: "alice", reason: "template-checked" });
  });
});
