// Bearer tokens checked with the Kubernetes TokenReview API. Results are kept for a short time,
// keyed by a hash of the token (never the token itself), so a burst of calls costs one review:
// concurrent calls with one token share the review in flight.

import { createHash } from "node:crypto";
import type { KubeClient } from "../kube/api-client.js";

export interface Identity {
  username: string;
  groups: readonly string[];
  /** What the TokenReview says besides: passed on as is to SubjectAccessReviews (project scope). */
  uid?: string;
  extra?: Readonly<Record<string, readonly string[]>>;
}

interface TokenReviewUser {
  username?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, unknown>;
}

interface TokenReviewStatus {
  status?: { authenticated?: boolean; user?: TokenReviewUser; error?: string };
}

/** The identity of a TokenReview's user: names, groups, uid and the extra lists of strings. */
export function identityOf(user: TokenReviewUser): Identity | undefined {
  if (!user.username) return undefined;
  const extra = Object.entries(user.extra ?? {}).filter(
    (entry): entry is [string, string[]] =>
      Array.isArray(entry[1]) && entry[1].every((value) => typeof value === "string"),
  );
  return {
    username: user.username,
    groups: user.groups ?? [],
    ...(user.uid ? { uid: user.uid } : {}),
    // Object.fromEntries defines each key as an own property, "__proto__" included.
    ...(extra.length > 0 ? { extra: Object.fromEntries(extra) } : {}),
  };
}

/**
 * The token of an `Authorization: Bearer <token>` header: the scheme in any case, one or more
 * spaces or tabs, then one run of visible characters (no spaces, no control characters).
 * Undefined for anything else. Read in one pass, no regex.
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const scheme = "bearer";
  if (header.length <= scheme.length || header.slice(0, scheme.length).toLowerCase() !== scheme)
    return undefined;
  let start = scheme.length;
  while (start < header.length && isBlank(header.charCodeAt(start))) start++;
  if (start === scheme.length || start === header.length) return undefined;
  for (let i = start; i < header.length; i++) {
    const code = header.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return undefined;
  }
  return header.slice(start);
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

export class TokenReviewer {
  readonly #api: Pick<KubeClient, "request">;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { identity: Identity | undefined; until: number }>();
  readonly #pending = new Map<string, Promise<Identity | undefined>>();
  // Each review in flight holds a request to the API server and its buffers: beyond this many,
  // callers are told to retry (503) rather than queued without bound.
  readonly #maxInFlight: number;
  #inFlight = 0;

  constructor(api: Pick<KubeClient, "request">, ttlMs = 10_000, maxInFlight = 64) {
    this.#api = api;
    this.#ttlMs = ttlMs;
    this.#maxInFlight = maxInFlight;
  }

  /** The identity behind a token, or undefined when the API server does not accept it. */
  async review(token: string): Promise<Identity | undefined> {
    const id = createHash("sha256").update(token).digest("base64url");
    const now = Date.now();
    const cached = this.#cache.get(id);
    if (cached && cached.until > now) return cached.identity;
    const pending = this.#pending.get(id);
    if (pending) return pending;
    if (this.#inFlight >= this.#maxInFlight) throw new Error("too many token reviews in flight");
    const review = this.#ask(id, token, now).finally(() => this.#pending.delete(id));
    this.#pending.set(id, review);
    return review;
  }

  async #ask(id: string, token: string, now: number): Promise<Identity | undefined> {
    this.#inFlight++;
    const answer = await this.#api
      .request<TokenReviewStatus>("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
        body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
        timeoutMs: 5_000,
      })
      .finally(() => {
        this.#inFlight--;
      });
    const user = answer.status?.user;
    const identity = answer.status?.authenticated && user ? identityOf(user) : undefined;
    // Bounded: the oldest answer goes first (a Map keeps insertion order), so a flood of new
    // tokens costs the flood's own reviews, not every user's.
    this.#cache.delete(id);
    if (this.#cache.size >= 10_000) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
    this.#cache.set(id, { identity, until: now + this.#ttlMs });
    return identity;
  }
}
