// Certificate rotation as a plan: from what the Secret holds and the time, the steps that keep
// TLS working. A new CA is trusted (added to the bundle) for an overlap period before anything
// is signed with it, and an old CA stays trusted until it expires, so every replica's
// certificate is always trusted by the caBundle the API server uses.

import {
  type CertFacts,
  certFacts,
  issueCa,
  issueServing,
  type KeyPair,
  keyMatches,
  type ServingRequest,
  signedBy,
  splitBundle,
} from "./x509.js";

export interface CertificateState {
  /** The CA certificates the API server should trust (the caBundle). */
  bundle: string[];
  /** The CA that signs serving certificates now. */
  ca: KeyPair | undefined;
  /** A CA already in the bundle, waiting for the overlap to pass before it signs. */
  nextCa: (KeyPair & { stagedAt: Date }) | undefined;
  serving: KeyPair | undefined;
}

export interface RotationPolicy {
  caValidityMs: number;
  /** Stage a new CA when the current one has less than this left. */
  caRenewBeforeMs: number;
  servingValidityMs: number;
  /** Reissue the serving certificate when it has less than this left. */
  servingRenewBeforeMs: number;
  /** How long a new CA is trusted before it signs: longer than the caBundle and the certificate take to reach every reader. */
  overlapMs: number;
  serving: ServingRequest;
  caCommonName: string;
}

export type RotationStep =
  | "create-ca"
  | "stage-next-ca"
  | "promote-next-ca"
  | "issue-serving"
  | "update-bundle";

function usable(pair: KeyPair | undefined, now: Date): CertFacts | undefined {
  if (!pair) return undefined;
  try {
    const facts = certFacts(pair.certPem);
    if (!keyMatches(pair.certPem, pair.keyPem) || now >= facts.notAfter) return undefined;
    return facts;
  } catch {
    return undefined;
  }
}

function wantedNames(request: ServingRequest): string[] {
  return [...request.dnsNames.map((d) => `DNS:${d}`), ...request.ipAddresses.map((ip) => `IP:${ip}`)].sort();
}

/** The bundle the state should publish: signing CA first, then the staged one, then older CAs still valid. */
export function desiredBundle(state: CertificateState, now: Date): string[] {
  const ordered = [state.ca?.certPem, state.nextCa?.certPem, ...state.bundle].filter(
    (pem): pem is string => pem !== undefined,
  );
  const seen = new Set<string>();
  const bundle: string[] = [];
  for (const pem of ordered) {
    let facts: CertFacts;
    try {
      facts = certFacts(pem);
    } catch {
      continue;
    }
    if (now >= facts.notAfter || seen.has(facts.fingerprint)) continue;
    seen.add(facts.fingerprint);
    bundle.push(pem.trim());
  }
  return bundle;
}

export function planRotation(state: CertificateState, now: Date, policy: RotationPolicy): RotationStep[] {
  const steps: RotationStep[] = [];
  const ca = usable(state.ca, now);
  let signerChanges = false;
  if (!ca) {
    steps.push("create-ca");
    signerChanges = true;
  } else {
    const staged = state.nextCa && usable(state.nextCa, now) ? state.nextCa : undefined;
    if (staged && now.getTime() - staged.stagedAt.getTime() >= policy.overlapMs) {
      steps.push("promote-next-ca");
      signerChanges = true;
    } else if (!staged && ca.notAfter.getTime() - now.getTime() < policy.caRenewBeforeMs) {
      steps.push("stage-next-ca");
    }
  }
  const serving = usable(state.serving, now);
  const servingOk =
    !signerChanges &&
    serving !== undefined &&
    state.ca !== undefined &&
    state.serving !== undefined &&
    signedBy(state.serving.certPem, state.ca.certPem) &&
    serving.notAfter.getTime() - now.getTime() >= policy.servingRenewBeforeMs &&
    serving.subjectAltNames.join(",") === wantedNames(policy.serving).join(",");
  if (!servingOk) steps.push("issue-serving");
  if (
    steps.length === 0 &&
    desiredBundle(state, now).join("\n") !== state.bundle.map((p) => p.trim()).join("\n")
  ) {
    steps.push("update-bundle");
  }
  return steps;
}

/** Carries out the steps; returns the new state (the input is not changed). */
export async function applyRotation(
  state: CertificateState,
  steps: readonly RotationStep[],
  now: Date,
  policy: RotationPolicy,
): Promise<CertificateState> {
  const next: CertificateState = { ...state, bundle: [...state.bundle] };
  const caName = () => `${policy.caCommonName} ${now.toISOString().slice(0, 10)}`;
  for (const step of steps) {
    switch (step) {
      case "create-ca":
        next.ca = await issueCa(caName(), now, policy.caValidityMs);
        next.nextCa = undefined;
        break;
      case "stage-next-ca":
        next.nextCa = { ...(await issueCa(caName(), now, policy.caValidityMs)), stagedAt: now };
        break;
      case "promote-next-ca":
        if (next.nextCa) next.ca = { certPem: next.nextCa.certPem, keyPem: next.nextCa.keyPem };
        next.nextCa = undefined;
        break;
      case "issue-serving":
        if (next.ca)
          next.serving = await issueServing(next.ca, policy.serving, now, policy.servingValidityMs);
        break;
      case "update-bundle":
        break;
    }
  }
  next.bundle = desiredBundle(next, now);
  return next;
}

// The Secret's layout. tls.crt/tls.key/ca.crt follow the kubernetes.io/tls convention, so the same
// Secret also works as a mounted volume or with tools that expect it.
export const SECRET_KEYS = {
  bundle: "ca.crt",
  caCert: "ca-signing.crt",
  caKey: "ca-signing.key",
  nextCaCert: "ca-next.crt",
  nextCaKey: "ca-next.key",
  cert: "tls.crt",
  key: "tls.key",
} as const;
export const STAGED_AT_ANNOTATION = "secrets.apolo.us/ca-next-staged-at";

export function stateFromSecret(
  data: Record<string, string> | undefined,
  annotations: Record<string, string> | undefined,
): CertificateState {
  const text = (key: string) => (data?.[key] ? Buffer.from(data[key], "base64").toString("utf8") : undefined);
  const pair = (cert: string, key: string): KeyPair | undefined => {
    const certPem = text(cert);
    const keyPem = text(key);
    return certPem && keyPem ? { certPem, keyPem } : undefined;
  };
  const staged = pair(SECRET_KEYS.nextCaCert, SECRET_KEYS.nextCaKey);
  const stagedAt = annotations?.[STAGED_AT_ANNOTATION]
    ? new Date(annotations[STAGED_AT_ANNOTATION])
    : undefined;
  return {
    bundle: splitBundle(text(SECRET_KEYS.bundle) ?? ""),
    ca: pair(SECRET_KEYS.caCert, SECRET_KEYS.caKey),
    nextCa: staged && stagedAt && !Number.isNaN(stagedAt.getTime()) ? { ...staged, stagedAt } : undefined,
    serving: pair(SECRET_KEYS.cert, SECRET_KEYS.key),
  };
}

export function secretFromState(state: CertificateState): {
  data: Record<string, string>;
  annotations: Record<string, string>;
} {
  const data: Record<string, string> = {};
  const put = (key: string, value: string | undefined) => {
    if (value !== undefined) data[key] = Buffer.from(value).toString("base64");
  };
  put(SECRET_KEYS.bundle, `${state.bundle.join("\n")}\n`);
  put(SECRET_KEYS.caCert, state.ca?.certPem);
  put(SECRET_KEYS.caKey, state.ca?.keyPem);
  put(SECRET_KEYS.nextCaCert, state.nextCa?.certPem);
  put(SECRET_KEYS.nextCaKey, state.nextCa?.keyPem);
  put(SECRET_KEYS.cert, state.serving?.certPem);
  put(SECRET_KEYS.key, state.serving?.keyPem);
  return {
    data,
    annotations: state.nextCa ? { [STAGED_AT_ANNOTATION]: state.nextCa.stagedAt.toISOString() } : {},
  };
}
