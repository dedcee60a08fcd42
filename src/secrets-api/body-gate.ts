// A cap on the bytes of request bodies the secrets API holds at once: each POST of a large value
// costs several times its size while it is parsed, decoded and written (60 parallel 900 KiB adds
// took the process from 81 to 413 MB). The gate runs after authentication, so only a platform
// user can hold a reservation, and only for its declared length until the answer is sent (the
// server's requestTimeout cuts a stalled body).

import type { RequestHandler } from "express";

/** What the gate needs of a byte budget (the webhook's BodyBudget fits). */
export interface ByteBudget {
  readonly limitBytes: number;
  tryReserve(bytes: number): boolean;
  release(bytes: number): void;
}

export function bodyGate(budget: ByteBudget | undefined, maxBodyBytes: number): RequestHandler {
  return (request, response, next) => {
    if (!budget) {
      next();
      return;
    }
    const header = request.headers["content-length"];
    if (header === undefined) {
      if (request.headers["transfer-encoding"] === undefined) {
        next();
        return;
      }
      response.status(411).json({ error: "send the body with a Content-Length header (not chunked)" });
      return;
    }
    const declared = Number(header);
    // Too large or malformed: the JSON reader answers it without reading the body.
    if (!Number.isSafeInteger(declared) || declared < 0 || declared > maxBodyBytes) {
      next();
      return;
    }
    if (!budget.tryReserve(declared)) {
      response
        .status(429)
        .set("retry-after", "1")
        .json({
          error: `the secrets API is at its limit of ${budget.limitBytes} bytes of request bodies in flight (--max-inflight-body-bytes); retry shortly`,
        });
      return;
    }
    response.once("close", () => budget.release(declared));
    next();
  };
}
