// Hostile input through the real API server: the pod of the report (a 150,000-slash mount path in
// the file annotation, sent with server-side dry run) is refused at once with the bound's 422,
// and a normal job submitted right after it is admitted.

import { beforeAll, describe, expect, it } from "vitest";
import { createPod, freshNamespace, jobPod, putStore, readPod, refusal, storeName } from "./support.js";

let ns: string;
const SLASH_RUN_SPEC = `secret:k:${"/".repeat(150_000)}a`;
const BOUND = "it is 150001 characters long, more than the limit of 4096 for a mount path";

beforeAll(async () => {
  ns = await freshNamespace("e2e-hostile");
  await putStore(ns, "alice", ["k"]);
});

describe("hostile input through the API server", () => {
  it("refuses the 150,000-slash mount path under server dry run with the 422 bound message", async () => {
    const pod = jobPod({ owner: "alice", files: [SLASH_RUN_SPEC] });
    const refused = await refusal(createPod("platform", ns, pod, { dryRun: true }));
    expect(refused.code).toBe(422);
    expect(refused.message).toContain(
      `admission webhook "secrets.apolo.us" denied the request: Invalid mount path '${"/".repeat(100)}…' in annotation platform.apolo.us/secret-volumes, entry 0: ${BOUND}`,
    );
    // The message quotes 100 characters of the path, not 150,000.
    expect(refused.message.length).toBeLessThan(1000);
  });

  it("refuses it from a user without an owner label too, naming the bound", async () => {
    const pod = jobPod({ files: [SLASH_RUN_SPEC] });
    const refused = await refusal(createPod("alice", ns, pod, { dryRun: true }));
    expect(refused.code).toBe(403);
    expect(refused.message).toContain(BOUND);
  });

  it("admits a normal job submitted right after the hostile pods", async () => {
    await Promise.all(
      [0, 1].map(() =>
        refusal(
          createPod("platform", ns, jobPod({ owner: "alice", files: [SLASH_RUN_SPEC] }), { dryRun: true }),
        ),
      ),
    );
    const created = await createPod("platform", ns, jobPod({ owner: "alice", env: { A: "secret:k" } }));
    const stored = await readPod(ns, created.metadata?.name as string);
    expect(stored.spec?.containers[0]?.env?.[0]).toEqual({
      name: "A",
      valueFrom: { secretKeyRef: { name: storeName("alice"), key: "k" } },
    });
  });
});
