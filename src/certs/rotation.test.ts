import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  applyRotation,
  type CertificateState,
  planRotation,
  type RotationPolicy,
  secretFromState,
  stateFromSecret,
} from "./rotation.js";
import { signedBy } from "./x509.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const policy: RotationPolicy = {
  caValidityMs: 30 * DAY,
  caRenewBeforeMs: 10 * DAY,
  servingValidityMs: 7 * DAY,
  servingRenewBeforeMs: 2 * DAY,
  overlapMs: 1 * HOUR,
  caCommonName: "test CA",
  serving: { commonName: "webhook.ns.svc", dnsNames: ["webhook.ns.svc"], ipAddresses: ["127.0.0.1"] },
};
const empty: CertificateState = { bundle: [], ca: undefined, nextCa: undefined, serving: undefined };

async function step(state: CertificateState, now: Date, p = policy) {
  const steps = planRotation(state, now, p);
  return { steps, state: steps.length > 0 ? await applyRotation(state, steps, now, p) : state };
}

describe("planRotation", () => {
  it("creates a CA and a serving certificate for an empty Secret, then has nothing to do", async () => {
    const t0 = new Date("2026-01-01T00:00:00Z");
    const first = await step(empty, t0);
    expect(first.steps).toEqual(["create-ca", "issue-serving"]);
    expect(first.state.bundle).toHaveLength(1);
    expect(signedBy(first.state.serving?.certPem ?? "", first.state.ca?.certPem ?? "")).toBe(true);
    const san = new X509Certificate(first.state.serving?.certPem ?? "").subjectAltName;
    expect(san).toBe("DNS:webhook.ns.svc, IP Address:127.0.0.1");
    expect(planRotation(first.state, new Date(t0.getTime() + HOUR), policy)).toEqual([]);
  });

  it("trusts a new CA for the overlap before it signs, and keeps the old one trusted", async () => {
    const t0 = new Date("2026-01-01T00:00:00Z");
    const { state: s0 } = await step(empty, t0);
    const oldCa = s0.ca?.certPem;
    const staged = await step(s0, new Date(t0.getTime() + 21 * DAY));
    expect(staged.steps).toContain("stage-next-ca");
    expect(staged.state.bundle).toHaveLength(2);
    expect(staged.state.ca?.certPem).toBe(oldCa);
    // Within the overlap nothing signs with the new CA.
    expect(planRotation(staged.state, new Date(t0.getTime() + 21 * DAY + HOUR / 2), policy)).not.toContain(
      "promote-next-ca",
    );
    const promoted = await step(staged.state, new Date(t0.getTime() + 21 * DAY + HOUR));
    expect(promoted.steps).toEqual(["promote-next-ca", "issue-serving"]);
    expect(promoted.state.ca?.certPem).toBe(staged.state.nextCa?.certPem);
    expect(promoted.state.bundle.map((p) => p.trim())).toContain(oldCa?.trim());
    expect(signedBy(promoted.state.serving?.certPem ?? "", promoted.state.ca?.certPem ?? "")).toBe(true);
  });

  it("reissues the serving certificate when its names change", async () => {
    const { state } = await step(empty, new Date("2026-01-01T00:00:00Z"));
    const changed = { ...policy, serving: { ...policy.serving, dnsNames: ["other.ns.svc"] } };
    expect(planRotation(state, new Date("2026-01-01T01:00:00Z"), changed)).toEqual(["issue-serving"]);
  });

  it("keeps every serving certificate trusted, and signed by a CA published an overlap earlier, for three years", async () => {
    let state = empty;
    const published = new Map<string, number>(); // CA PEM → when it entered the bundle
    const start = new Date("2026-01-01T00:00:00Z").getTime();
    let rotations = 0;
    let previousSigner: string | undefined;
    for (let t = start; t < start + 3 * 365 * DAY; t += 12 * HOUR) {
      const now = new Date(t);
      const result = await step(state, now);
      state = result.state;
      for (const pem of state.bundle) if (!published.has(pem.trim())) published.set(pem.trim(), t);
      const serving = state.serving?.certPem ?? "";
      const signer = state.bundle.find((ca) => signedBy(serving, ca))?.trim();
      expect(signer, `at ${now.toISOString()} the serving certificate is not trusted`).toBeDefined();
      expect(new Date(new X509Certificate(serving).validTo).getTime()).toBeGreaterThan(t);
      if (previousSigner !== undefined && signer !== previousSigner) {
        rotations++;
        // A CA signs only after the API server has trusted it for the overlap.
        expect(t - (published.get(signer as string) as number)).toBeGreaterThanOrEqual(policy.overlapMs);
      }
      previousSigner = signer;
    }
    expect(rotations).toBeGreaterThan(40);
  });

  it("round-trips through the Secret layout", async () => {
    const staged = await step(
      (await step(empty, new Date("2026-01-01T00:00:00Z"))).state,
      new Date("2026-01-22T00:00:00Z"),
    );
    const { data, annotations } = secretFromState(staged.state);
    const back = stateFromSecret(data, annotations);
    expect(back.nextCa?.stagedAt.toISOString()).toBe("2026-01-22T00:00:00.000Z");
    expect(back.bundle.map((p) => p.trim())).toEqual(staged.state.bundle.map((p) => p.trim()));
    expect(planRotation(back, new Date("2026-01-22T00:10:00Z"), policy)).toEqual([]);
  });
});
