// Reading a JSON request body against a byte budget: the webhook's /mutate and the secrets API's
// adds both buffer bodies whole before parsing, so both take each chunk from a budget shared by
// every connection as it arrives (never from a declared length) and stop keeping bytes at the
// first refusal.

import type { IncomingMessage } from "node:http";

/** A cap on the bytes of request bodies held at once (the webhook's BodyBudget fits). */
export interface ByteBudget {
  readonly limitBytes: number;
  tryReserve(bytes: number): boolean;
  release(bytes: number): void;
}

export type BodyResult =
  | { kind: "json"; value: unknown }
  | { kind: "empty" }
  | { kind: "too-large" }
  | { kind: "busy" }
  | { kind: "invalid" }
  | { kind: "failed" };

/**
 * Reads a JSON body of at most `limit` bytes, holding no more than `budget` allows (none: no
 * budget); the bytes held are added to `lease.bytes` for the caller to release when its answer is
 * sent. A declared length over the limit is refused before reading. `done` is called once; the
 * returned function ends the read early (a timeout): later chunks are dropped, nothing is called.
 */
export function readJsonBody(
  request: IncomingMessage,
  limit: number,
  budget: ByteBudget | undefined,
  lease: { bytes: number },
  done: (body: BodyResult) => void,
): () => void {
  let finished = false;
  const finish = (body: BodyResult) => {
    if (finished) return;
    finished = true;
    done(body);
  };
  const header = request.headers["content-length"];
  if (header !== undefined && Number(header) > limit) {
    request.resume();
    finish({ kind: "too-large" });
    return () => undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  request.on("data", (chunk: Buffer) => {
    if (finished) return;
    if (size + chunk.length > limit) {
      chunks.length = 0;
      finish({ kind: "too-large" });
      return;
    }
    if (budget && !budget.tryReserve(chunk.length)) {
      chunks.length = 0;
      finish({ kind: "busy" });
      return;
    }
    if (budget) lease.bytes += chunk.length;
    chunks.push(chunk);
    size += chunk.length;
  });
  request.on("end", () => {
    if (finished) return;
    if (size === 0) return finish({ kind: "empty" });
    const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString("utf8"));
    } catch {
      finish({ kind: "invalid" });
      return;
    }
    finish({ kind: "json", value });
  });
  request.on("error", () => finish({ kind: "failed" }));
  return () => {
    finished = true;
    chunks.length = 0;
  };
}
