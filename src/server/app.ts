// The request listener: POST /mutate, /healthz, /readyz. The only code that sees request bytes.

import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import express, { type ErrorRequestHandler, type Express } from "express";
import { reviewJson } from "../admission/respond.js";
import { readJsonBody } from "../lifecycle/json-body.js";
import { probeRoutes, type Readiness } from "../lifecycle/probes.js";
import type { BodyBudget } from "./body-budget.js";
import type { HandledReview, ReviewHandler } from "./review-handler.js";

export interface AppOptions {
  handleReview: ReviewHandler;
  /** Ready: certificate loaded, store cache synced, not shutting down. Returns the reasons when not. */
  readiness: Readiness;
  maxBodyBytes: number;
  /** Bytes of review bodies held at once over all connections; beyond it requests get 429. */
  bodyBudget: BodyBudget;
  /** Called for each request refused because the body budget is spent. */
  onBusy?: () => void;
}

/**
 * POST /mutate is answered by a plain handler: the webhook sits in every pod creation, and
 * express's routing and body-parser's generic decoding cost more than all of the admission logic
 * (bench/: 0.26 → see the README's Performance section). Everything else goes through express.
 */
export function createApp(options: AppOptions): RequestListener {
  const app = createExpressApp(options);
  return (request, response) => {
    if (request.method === "POST" && (request.url === "/mutate" || request.url?.startsWith("/mutate?"))) {
      handleMutate(request, response, options);
      return;
    }
    app(request, response);
  };
}

function handleMutate(request: IncomingMessage, response: ServerResponse, options: AppOptions): void {
  // The reservation lives until the answer is sent or the connection is gone.
  const lease = { bytes: 0 };
  response.once("close", () => options.bodyBudget.release(lease.bytes));
  readJsonBody(request, options.maxBodyBytes, options.bodyBudget, lease, (body) => {
    if (body.kind === "too-large") {
      const error = `request body is larger than the limit of ${options.maxBodyBytes} bytes (--max-body-bytes)`;
      sendJson(response, 413, { error }, true);
      return;
    }
    if (body.kind === "busy") {
      options.onBusy?.();
      options.bodyBudget.release(lease.bytes);
      lease.bytes = 0;
      const error = `the webhook is at its limit of ${options.bodyBudget.limitBytes} bytes of review bodies in flight (--max-inflight-body-bytes); retry shortly`;
      refuseUnread(request, response, 429, { error });
      return;
    }
    if (body.kind === "invalid" || body.kind === "empty") {
      sendJson(response, 400, { error: "request body is not valid JSON: expected an AdmissionReview" });
      return;
    }
    if (body.kind === "failed") {
      response.destroy();
      return;
    }
    // Answered in the same turn as the body's last bytes when the cache knows the answer: the
    // response then leaves with the read's own write batch.
    let result: ReturnType<ReviewHandler>;
    try {
      result = options.handleReview(body.value);
    } catch {
      sendJson(response, 500, { error: "internal error" });
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (answer) => sendAnswer(response, answer),
        () => sendJson(response, 500, { error: "internal error" }),
      );
    } else {
      sendAnswer(response, result);
    }
  });
}

function createExpressApp(options: AppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");

  app.use(probeRoutes(options.readiness));

  app.use((_request, response) => {
    response
      .status(404)
      .json({ error: "not found: the webhook serves POST /mutate, GET /healthz and GET /readyz" });
  });

  // Anything thrown by express itself (a malformed URL, say) is answered, never crashes.
  const onError: ErrorRequestHandler = (error: unknown, _request, response, _next) => {
    const status =
      typeof error === "object" && error !== null && "status" in error ? Number(error.status) : 500;
    sendJson(response, status >= 400 && status < 500 ? status : 500, {
      error: status >= 400 && status < 500 ? "bad request" : "internal error",
    });
  };
  app.use(onError);
  return app;
}

/**
 * Answers at once without keeping the body: the answer is written whole now, and the response
 * ends (so the connection is reused or closed) only when the rest of the body has been read and
 * discarded. A client still writing its body therefore never hits a closed socket.
 */
function refuseUnread(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  body: unknown,
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "retry-after": "1",
  });
  response.write(text);
  if (request.complete) {
    response.end();
    return;
  }
  request.removeAllListeners("data");
  request.on("end", () => response.end());
  request.on("error", () => response.destroy());
  request.resume();
}

/** A review as reviewJson writes it (the patch is not scanned again), or an error's JSON. */
function sendAnswer(response: ServerResponse, answer: HandledReview): void {
  const { body } = answer;
  sendText(response, answer.status, "response" in body ? reviewJson(body) : JSON.stringify(body));
}

function sendJson(response: ServerResponse, status: number, body: unknown, close = false): void {
  sendText(response, status, JSON.stringify(body), close);
}

function sendText(response: ServerResponse, status: number, text: string, close = false): void {
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...(close ? { connection: "close" } : {}),
  });
  response.end(text);
}
