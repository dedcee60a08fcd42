import { describe, expect, it } from "vitest";
import type { Pod } from "../admission/types.js";
import { planInjection } from "./plan.js";
import type { Policy } from "./policy.js";
import { MemorySecretIndex } from "./secret-index.js";

const policy: Policy = {
  scope: "user",
  clusterName: "prod",
  trustedUsers: new Set(),
  trustedGroups: new Set(),
  trustedControllers: new Set(),
};

// One pod with a problem from every step of the plan: references, store uses, the owner check of
// references, the secret volume, the mounts and the store's keys.
const pod: Pod = {
  metadata: {
    labels: { "platform.apolo.us/user": "alice" },
    annotations: {
      "platform.apolo.us/secret-volumes": JSON.stringify([
        "secret:k:/f:ro",
        "secret://other/alice/k2:/etc/x",
        { uri: "secret:/bob/k3", mountPath: "/etc/y" },
        "secret:k4:/etc/z",
      ]),
    },
  },
  spec: {
    containers: [
      {
        name: "main",
        env: [
          { name: "A", value: "secret:a/b" },
          { name: "S", valueFrom: { secretKeyRef: { name: "user--bob--secrets", key: "k" } } },
          { name: "B", value: "secret:missing" },
        ],
        volumeMounts: [{ name: "data", mountPath: "/etc/z" }],
      },
    ],
    volumes: [{ name: "apolo-secrets-alice", secret: { secretName: "other" } }],
  },
};

describe("planInjection", () => {
  it("gathers every step's problems in one refusal, forbidden first, each step in the pod's order", () => {
    const index = new MemorySecretIndex();
    index.set("ns", "user--alice--secrets", ["k4"]);
    const result = planInjection(
      { pod, namespace: "ns", mode: "create", submitter: undefined },
      policy,
      index,
    );
    if (result.kind !== "refusal") throw new Error("expected a refusal");
    expect(result.problems.map((p) => `${p.code} ${p.reason}`)).toEqual([
      "403 foreign-store",
      "403 foreign-secret",
      "422 invalid-reference",
      "422 invalid-volumes",
      "422 wrong-cluster",
      "422 invalid-volumes",
      "422 invalid-volumes",
      "422 missing-secrets",
    ]);
    expect(result.problems.map((p) => p.message.slice(0, 30))).toEqual([
      "env S of container 'main' uses",
      "Secret reference 'secret:/bob/",
      "Invalid secret reference 'secr",
      "Invalid secret file specificat",
      "Secret reference 'secret://oth",
      "The pod already has a volume n",
      "Two mounts at '/etc/z' in cont",
      "Missing secrets: 'missing'",
    ]);
    expect(result).toMatchObject({ code: 403, reason: "foreign-store" });
    expect(result.missingIn).toEqual({ namespace: "ns", store: "user--alice--secrets" });
    expect(result.message).toBe(result.problems.map((p) => p.message).join("; "));
  });
});
