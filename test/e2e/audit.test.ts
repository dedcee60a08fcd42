// What the webhook's answers leave behind, through the real API server: its audit annotations on
// the pod's audit event (names only; nothing of the owner's store on a forged-owner refusal, no
// secret value anywhere in the audit log), and its warnings as kubectl prints them.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { UserKey } from "../cluster/control-plane.js";
import { waitFor } from "../cluster/processes.js";
import { createPod, e2e, freshNamespace, jobPod, putStore, refusal } from "./support.js";

const local = e2e().local;
/** The chart's webhook name: the API server writes our keys as `<webhook name>/<key>`. */
const WEBHOOK = "secrets.apolo.us";
const FORGED = "'bob' may not submit a job for owner 'alice'";

interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  objectRef?: { resource?: string; namespace?: string; name?: string };
  annotations?: Record<string, string>;
}

function auditLog(): string {
  if (!local) throw new Error("the audit log needs the local control plane");
  return readFileSync(local.plane.auditLog, "utf8");
}

/** The completed audit event of a pod's creation, once written. */
function podCreation(namespace: string, name: string): Promise<AuditEvent> {
  return waitFor(
    `the audit event of pod ${namespace}/${name}`,
    async () =>
      auditLog()
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as AuditEvent)
        .find(
          (e) =>
            e.verb === "create" &&
            e.stage === "ResponseComplete" &&
            e.objectRef?.resource === "pods" &&
            e.objectRef.namespace === namespace &&
            e.objectRef.name === name &&
            e.annotations?.[`${WEBHOOK}/decision`] !== undefined,
        ),
    20_000,
  );
}

/** Our annotations of an event, without the webhook-name prefix. */
function ours(event: AuditEvent): Record<string, string> {
  const prefix = `${WEBHOOK}/`;
  return Object.fromEntries(
    Object.entries(event.annotations ?? {})
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
}

/** `kubectl create --dry-run=server` of a pod as `user`: its exit status and stderr (warnings). */
function dryRunCreate(
  user: UserKey,
  namespace: string,
  pod: unknown,
): { status: number | null; stderr: string } {
  if (!local) throw new Error("kubectl needs the local control plane");
  const { plane } = local;
  const run = spawnSync(
    plane.tools.kubectl,
    ["--kubeconfig", plane.kubeconfigs[user], "-n", namespace, "create", "--dry-run=server", "-f", "-"],
    { input: JSON.stringify(pod), encoding: "utf8" },
  );
  return { status: run.status, stderr: run.stderr };
}

describe.runIf(local !== undefined)("audit annotations (local control plane)", () => {
  it("name owner, keys, decision and reason on the pod's audit event, and no value is in the log", async () => {
    const ns = await freshNamespace("e2e-audit");
    await putStore(ns, "alice", ["db_password", "aws_key"]);
    const admitted = jobPod({ owner: "alice", env: { A: "secret:db_password", B: "secret:aws_key" } });
    await createPod("platform", ns, admitted);
    const allowed = await podCreation(ns, admitted.metadata?.name as string);
    expect(ours(allowed)).toEqual({
      owner: "alice",
      keys: "aws_key,db_password",
      decision: "allowed",
      reason: "mutated",
    });

    const missing = jobPod({ owner: "alice", env: { A: "secret:gcp_key" } });
    expect((await refusal(createPod("platform", ns, missing))).message).toContain(
      "Missing secrets: 'gcp_key'",
    );
    expect(ours(await podCreation(ns, missing.metadata?.name as string))).toEqual({
      owner: "alice",
      keys: "gcp_key",
      decision: "denied",
      reason: "missing-secrets",
    });

    // bob forging alice's label: the refusal's annotations hold nothing of alice's store.
    const forged = jobPod({ owner: "alice", env: { A: "secret:db_password" } });
    expect((await refusal(createPod("bob", ns, forged))).message).toContain(FORGED);
    expect(ours(await podCreation(ns, forged.metadata?.name as string))).toEqual({
      owner: "alice",
      decision: "denied",
      reason: "forged-owner",
    });

    const log = auditLog();
    for (const key of ["db_password", "aws_key"]) {
      const value = `value-of-${key}`;
      expect(log).not.toContain(value);
      expect(log).not.toContain(Buffer.from(value).toString("base64"));
    }
  });
});

describe.runIf(local !== undefined)("warnings through kubectl (local control plane)", () => {
  it("offers close names of the owner's store on a Missing secrets refusal, never to a forger", async () => {
    const ns = await freshNamespace("e2e-warn");
    await putStore(ns, "alice", ["db_password"]);
    const pod = jobPod({ owner: "alice", env: { A: "secret:db_pasword" } });

    const trusted = dryRunCreate("platform", ns, pod);
    expect(trusted.status).not.toBe(0);
    expect(trusted.stderr).toContain("Warning: secret 'db_pasword' is missing: did you mean 'db_password'?");
    expect(trusted.stderr).toContain("Missing secrets: 'db_pasword'");

    const forger = dryRunCreate("bob", ns, pod);
    expect(forger.status).not.toBe(0);
    expect(forger.stderr).toContain(FORGED);
    expect(forger.stderr).not.toContain("Warning:");
    expect(forger.stderr).not.toContain("db_password");
  });

  it("names the legacy owner label and secret files mounted with subPath on an admitted pod", async () => {
    const ns = await freshNamespace("e2e-warn");
    await putStore(ns, "alice", ["aws_key"]);
    const pod = jobPod({ files: ["secret:aws_key:/etc/aws"] });
    pod.metadata = {
      ...pod.metadata,
      labels: { ...pod.metadata?.labels, "platform.neuromation.io/user": "alice" },
    };

    const answer = dryRunCreate("platform", ns, pod);
    expect(answer.stderr).not.toContain("denied");
    expect(answer.status).toBe(0);
    expect(answer.stderr).toContain(
      "Warning: the owner label 'platform.neuromation.io/user' uses the legacy prefix platform.neuromation.io/",
    );
    expect(answer.stderr).toContain("Warning: 1 secret file(s) mounted with subPath");
  });
});
