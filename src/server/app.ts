// The request listener: POST /mutate, /healthz, /readyz. The only code that sees request bytes.

import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import express, { type ErrorRequestHandler, type Express } from "express";
import type { ReviewHandler } from "./review-handler.js";

export interface AppOptions {
  handleReview: ReviewHandler;
  /** Ready: certificate loaded, store cache synced, not shutting down. Returns the reasons when not. */
  readiness: () => string[];
  maxBodyBytes: number;
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
  readJsonBody(request, options.maxBodyBytes, (body) => {
    if (body.kind === "too-large") {
      const error = `request body is larger than the limit of ${options.maxBodyBytes} bytes (--max-body-bytes)`;
      sendJson(response, 413, { error }, true);
      return;
    }
    if (body.kind === "invalid") {
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
        (answer) => sendJson(response, answer.status, answer.body),
        () => sendJson(response, 500, { error: "internal error" }),
      );
    } else {
      sendJson(response, result.status, result.body);
    }
  });
}

function createExpressApp(options: AppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");

  app.get("/healthz", (_request, response) => {
    response.type("text/plain").send("ok\n");
  });
  app.get("/readyz", (_request, response) => {
    const waiting = options.readiness();
    if (waiting.length === 0) response.type("text/plain").send("ok\n");
    else
      response
        .status(503)
        .type("text/plain")
        .send(`not ready: ${waiting.join(", ")}\n`);
  });

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

type BodyResult =
  | { kind: "json"; value: unknown }
  | { kind: "too-large" }
  | { kind: "invalid" }
  | { kind: "failed" };

/** Reads a JSON body of at most `limit` bytes. The API server always sends Content-Length. */
function readJsonBody(request: IncomingMessage, limit: number, done: (body: BodyResult) => void): void {
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  if (declared > limit) {
    request.resume();
    done({ kind: "too-large" });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (body: BodyResult) => {
    if (finished) return;
    finished = true;
    done(body);
  };
  request.on("data", (chunk: Buffer) => {
    if (finished) return;
    size += chunk.length;
    if (size > limit) finish({ kind: "too-large" });
    else chunks.push(chunk);
  });
  request.on("end", () => {
    if (finished) return;
    let value: unknown;
    try {
      value = JSON.parse(Buffer.concat(chunks, size).toString("utf8"));
    } catch {
      finish({ kind: "invalid" });
      return;
    }
    finish({ kind: "json", value });
  });
  request.on("error", () => finish({ kind: "failed" }));
}

function sendJson(response: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...(close ? { connection: "close" } : {}),
  });
  response.end(text);
}
