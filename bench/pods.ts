// The pods the benchmarks send, and the store they need: no references, a typical job
// (3 env references, 1 file), and a large pod (20 containers with 30 references each).

import type { Policy } from "../src/core/policy.js";
import { reviewFor } from "../test/support/review.js";

export const BENCH_OWNER = "bench";
export const BENCH_KEYS = Array.from({ length: 30 }, (_, i) => `key_${i}`);

type Json = Record<string, unknown>;

function pod(containers: Json[], files?: string[]): Json {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "bench-job",
      labels: {
        "platform.apolo.us/job": "bench-job",
        "platform.apolo.us/user": BENCH_OWNER,
        "platform.apolo.us/preset": "gpu-small",
      },
      ...(files ? { annotations: { "platform.apolo.us/secret-volumes": JSON.stringify(files) } } : {}),
    },
    spec: { restartPolicy: "Never", automountServiceAccountToken: false, containers },
  };
}

const plainEnv = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ name: `SETTING_${i}`, value: `value-${i}` }));

export const PODS: Record<"none" | "typical" | "large", Json> = {
  none: {
    ...pod([{ name: "main", image: "ghcr.io/example/train:latest", env: plainEnv(6) }]),
    metadata: { name: "bench-plain", labels: { app: "x" } },
  },
  typical: pod(
    [
      {
        name: "main",
        image: "ghcr.io/example/train:latest",
        env: [
          ...plainEnv(5),
          { name: "DB_PASSWORD", value: "secret:key_0" },
          { name: "HF_TOKEN", value: "secret:key_1" },
          { name: "WANDB", value: "secret:key_2" },
        ],
      },
    ],
    ["secret:key_3:/var/secrets/gcp.json"],
  ),
  large: pod(
    Array.from({ length: 20 }, (_, c) => ({
      name: `worker-${c}`,
      image: "ghcr.io/example/train:latest",
      env: BENCH_KEYS.map((key, i) => ({ name: `SECRET_${i}`, value: `secret:${key}` })),
    })),
  ),
};

/** The review the API server would send for this pod, from the platform's submitter. */
export function review(podValue: Json, uid: string): Json {
  return reviewFor(podValue, uid, { username: "platform-submitter", groups: ["apolo:platform"] }, "bench");
}

/** The policy every in-process bench tool serves with: the platform's submitter trusted. */
export const BENCH_POLICY: Policy = {
  scope: "user",
  clusterName: "bench",
  trustedUsers: new Set(["platform-submitter"]),
  trustedGroups: new Set(["apolo:platform"]),
  trustedControllers: new Set(),
};
