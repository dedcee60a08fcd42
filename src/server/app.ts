// The express app: POST /mutate, /healthz, /readyz. The only code that sees request bytes.

import express, { type ErrorRequestHandler, type Express } from "express";
import type { ReviewHandler } from "./review-handler.js";

export interface AppOptions {
  handleReview: ReviewHandler;
  /** Ready: certificate loaded, store cache synced, not shutting down. Returns the reasons when not. */
  readiness: () => string[];
  maxBodyBytes: number;
}

export function createApp(options: AppOptions): Express {
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

  // The API server sends the pod (and, on UPDATE, the old pod) in one review; etcd caps an
  // object at 1.5 MiB, so the default limit leaves room for both with their encoding overhead.
  const json = express.json({ limit: options.maxBodyBytes, type: () => true, strict: false });
  app.post("/mutate", json, (request, response, next) => {
    options
      .handleReview(request.body as unknown)
      .then((result) => {
        response.status(result.status).json(result.body);
      })
      .catch(next);
  });

  app.use((_request, response) => {
    response
      .status(404)
      .json({ error: "not found: the webhook serves POST /mutate, GET /healthz and GET /readyz" });
  });

  const onError: ErrorRequestHandler = (error: unknown, _request, response, _next) => {
    const status =
      typeof error === "object" && error !== null && "status" in error ? Number(error.status) : 500;
    const type = typeof error === "object" && error !== null && "type" in error ? String(error.type) : "";
    if (type === "entity.too.large") {
      response.status(413).json({
        error: `request body is larger than the limit of ${options.maxBodyBytes} bytes (--max-body-bytes)`,
      });
    } else if (type === "entity.parse.failed") {
      response.status(400).json({ error: "request body is not valid JSON: expected an AdmissionReview" });
    } else if (status >= 400 && status < 500) {
      response.status(status).json({ error: "bad request: expected a JSON AdmissionReview" });
    } else {
      response.status(500).json({ error: "internal error" });
    }
  };
  app.use(onError);
  return app;
}
