// The reader of add bodies, and the cap on the bytes of them the secrets API holds at once: each
// POST of a large value costs several times its size while it is parsed, decoded and written (60
// parallel 900 KiB adds took the process from 81 to 413 MB). It runs after authentication, so
// only a platform user reaches it. Bytes are taken from the budget as they arrive, never from a
// declared length (idle uploads declaring large bodies would otherwise hold the whole budget for
// everyone); a caller's declared lengths are capped separately, at one largest body, so one user's
// stalled uploads block only that user. A body must arrive within a short read timeout.
// Bodies are read here, not by express.json: it inflates gzip, deflate and br, so a 1.4 KB body
// would cost 1.3 MB that no budget saw. Compressed bodies are refused (the apolo CLI never sends
// them), and so are charsets other than UTF-8.

import type { Request, RequestHandler, Response } from "express";
import { type ByteBudget, readJsonBody } from "../lifecycle/json-body.js";
import { excerpt } from "./excerpt.js";
import { HttpError } from "./http-error.js";

export type { ByteBudget };

export interface BodyGateOptions {
  /** Bytes of bodies held at once over all callers; undefined: no cap (nor per-caller cap). */
  budget: ByteBudget | undefined;
  maxBodyBytes: number;
  /** The time a body may take to arrive once its headers are read. */
  readTimeoutMs: number;
  /** Who is asking (the per-caller cap's key): set by authentication. */
  callerOf: (response: Response) => string;
}

export const BODY_READ_TIMEOUT_MS = 15_000;

const TOO_LARGE = "the request is larger than a 1 MiB secret allows";

/** Reads and parses a JSON body into request.body, or answers why it cannot. */
export function bodyGate(options: BodyGateOptions): RequestHandler {
  const declaredByCaller = new Map<string, number>();
  return (request, response, next) => {
    if (!hasBody(request)) {
      next();
      return;
    }
    const refusal = headerRefusal(request, options);
    if (refusal) {
      request.resume();
      next(refusal);
      return;
    }
    // Not JSON: left unread, as express.json leaves it; the route answers what the body needs.
    if (!request.is("application/json")) {
      next();
      return;
    }
    const declared = Number(request.headers["content-length"] ?? 0);
    const caller = options.callerOf(response);
    if (options.budget && !holdDeclared(declaredByCaller, options, caller, declared)) {
      request.resume();
      next(callerBusy());
      return;
    }
    response.once("close", () => {
      if (options.budget) releaseDeclared(declaredByCaller, caller, declared);
    });
    readBody(request, response, options, next);
  };
}

function hasBody(request: Request): boolean {
  return (
    request.headers["transfer-encoding"] !== undefined || request.headers["content-length"] !== undefined
  );
}

/** What is wrong with the headers alone (encoding, charset, length), if anything. */
function headerRefusal(request: Request, options: BodyGateOptions): HttpError | undefined {
  const encoding = (request.headers["content-encoding"] ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "") {
    return new HttpError(
      415,
      `the body is sent with Content-Encoding '${excerpt(encoding)}': the secrets API reads only uncompressed JSON; send it without a Content-Encoding header`,
    );
  }
  const charset = charsetOf(request.headers["content-type"] ?? "");
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    return new HttpError(
      415,
      `the body's charset '${excerpt(charset)}' is not supported: send UTF-8 JSON ('Content-Type: application/json' or 'application/json; charset=utf-8')`,
    );
  }
  const header = request.headers["content-length"];
  if (header === undefined) {
    if (!options.budget) return undefined;
    return new HttpError(411, "send the body with a Content-Length header (not chunked)");
  }
  const declared = Number(header);
  if (!Number.isSafeInteger(declared) || declared < 0) {
    return new HttpError(400, "the Content-Length header is not a number of bytes: send the body's length");
  }
  if (declared > options.maxBodyBytes) return new HttpError(413, TOO_LARGE);
  return undefined;
}

/** The charset parameter of a Content-Type, lower-cased and unquoted; undefined when absent. */
export function charsetOf(contentType: string): string | undefined {
  for (const parameter of contentType.split(";").slice(1)) {
    const equals = parameter.indexOf("=");
    if (equals < 0) continue;
    if (parameter.slice(0, equals).trim().toLowerCase() !== "charset") continue;
    let value = parameter
      .slice(equals + 1)
      .trim()
      .toLowerCase();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value;
  }
  return undefined;
}

/** Adds `declared` to the caller's declared bytes in flight unless that would pass one largest body. */
function holdDeclared(
  held: Map<string, number>,
  options: BodyGateOptions,
  caller: string,
  declared: number,
): boolean {
  const before = held.get(caller) ?? 0;
  if (before + declared > options.maxBodyBytes) return false;
  held.set(caller, before + declared);
  return true;
}

function releaseDeclared(held: Map<string, number>, caller: string, declared: number): void {
  const left = (held.get(caller) ?? 0) - declared;
  if (left > 0) held.set(caller, left);
  else held.delete(caller);
}

function callerBusy(): HttpError {
  return new HttpError(
    429,
    "your other adds still being sent hold the most one caller may (one 1 MiB secret's request); retry when they are done",
    { "retry-after": "1" },
  );
}

function budgetBusy(budget: ByteBudget): HttpError {
  return new HttpError(
    429,
    `the secrets API is at its limit of ${budget.limitBytes} bytes of request bodies in flight (--max-inflight-body-bytes); retry shortly`,
    { "retry-after": "1" },
  );
}

/**
 * Reads the body (lifecycle/json-body.ts), each chunk taken from the budget as it arrives and
 * held until the answer is sent. A refusal mid-body stops keeping bytes: the rest is read and
 * dropped.
 */
function readBody(
  request: Request,
  response: Response,
  options: BodyGateOptions,
  next: (error?: unknown) => void,
): void {
  const { budget } = options;
  const lease = { bytes: 0 };
  const refuse = (error: HttpError) => {
    clearTimeout(timer);
    budget?.release(lease.bytes);
    lease.bytes = 0;
    request.resume();
    next(error);
  };
  const stop = readJsonBody(request, options.maxBodyBytes, budget, lease, (body) => {
    clearTimeout(timer);
    if (body.kind === "json" || body.kind === "empty") {
      // An empty body is an empty object, as express.json read it: the route says what it needs.
      request.body = body.kind === "json" ? body.value : {};
      next();
    } else if (body.kind === "too-large") refuse(new HttpError(413, TOO_LARGE));
    else if (body.kind === "busy" && budget) refuse(budgetBusy(budget));
    else if (body.kind === "invalid")
      refuse(new HttpError(400, 'the body is not valid JSON: send {"key": "NAME", "value": "<base64>"}'));
    // failed: the caller went away; nothing is answered.
  });
  const timer = setTimeout(() => {
    stop();
    // A caller that stopped sending would keep the socket: it is closed once the answer is sent.
    response.set("connection", "close");
    refuse(bodyTimeout(options.readTimeoutMs));
  }, options.readTimeoutMs);
  timer.unref();
  // The bytes held are given back once the answer is sent or the caller is gone.
  response.once("close", () => {
    stop();
    clearTimeout(timer);
    budget?.release(lease.bytes);
  });
}

function bodyTimeout(ms: number): HttpError {
  return new HttpError(
    408,
    `the body did not arrive within ${ms / 1000} s of the request's headers: send it whole without pausing`,
  );
}
