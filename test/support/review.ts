// An AdmissionReview as the API server sends one for a pod CREATE: shared by the test suites
// and the benchmarks (so it imports no test framework).

import { CASE_NAMESPACE, type JsonObject } from "../cases/cases.js";

export function reviewFor(
  pod: JsonObject,
  uid: string,
  submitter: { username: string; groups: readonly string[] },
  namespace = CASE_NAMESPACE,
): JsonObject {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      requestKind: { group: "", version: "v1", kind: "Pod" },
      requestResource: { group: "", version: "v1", resource: "pods" },
      name: (pod.metadata as { name?: string } | undefined)?.name ?? "",
      namespace,
      operation: "CREATE",
      userInfo: {
        username: submitter.username,
        uid: "u-1",
        groups: [...submitter.groups, "system:authenticated"],
      },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    },
  };
}

/** The review of alice's small job pod using her secret `k`: the "normal review sent meanwhile". */
export function aliceJobReview(uid: string, namespace: string): JsonObject {
  return reviewFor(
    {
      metadata: { name: uid, labels: { "platform.apolo.us/user": "alice" } },
      spec: { containers: [{ name: "c", image: "i", env: [{ name: "A", value: "secret:k" }] }] },
    },
    uid,
    { username: "alice", groups: [] },
    namespace,
  );
}
