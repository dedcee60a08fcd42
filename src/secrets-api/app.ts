// The write-only secrets API: POST /api/v1/secrets (add or overwrite), GET /api/v1/secrets
// (names only), DELETE /api/v1/secrets/{key}. No route ever returns a value. Every caller is
// authenticated with a bearer token and manages only its own store.

import express, {
  type ErrorRequestHandler,
  type Express,
  type NextFunction,
  type Request,
  type Response,
} from "express";
import { isValidSecretName, SECRET_NAME_RULE } from "../core/reference.js";
import { type OwnerMapping, ownerOf } from "./owner-mapping.js";
import { StoreFullError, type StoreWriter } from "./store-writer.js";
import type { Identity } from "./token-review.js";

/** The platform's limit on one secret's value. */
export const MAX_VALUE_BYTES = 1024 * 1024;
// A 1 MiB value is 1.34 MiB in base64, plus the JSON around it.
const MAX_BODY_BYTES = 1_500_000;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface ApiLog {
  request(fields: {
    method: string;
    route: string;
    status: number;
    user?: string;
    owner?: string;
    key?: string;
    durationMs: number;
  }): void;
  error(message: string, error: unknown): void;
}

export interface SecretsApiOptions {
  review: (token: string) => Promise<Identity | undefined>;
  mapping: OwnerMapping;
  store: StoreWriter;
  readiness: () => string[];
  log: ApiLog;
}

interface Caller {
  user: string;
  owner: string;
  storeId: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function caller(response: Response): Caller {
  return response.locals.caller as Caller;
}

export function createSecretsApi(options: SecretsApiOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");

  app.get("/healthz", (_request, response) => {
    response.type("text/plain").send("ok\n");
  });
  app.get("/readyz", (_request, response) => {
    const waiting = options.readiness();
    response
      .status(waiting.length === 0 ? 200 : 503)
      .type("text/plain")
      .send(waiting.length === 0 ? "ok\n" : `not ready: ${waiting.join(", ")}\n`);
  });

  // One log line per API request: who, which route, which key name, the status. Never a value.
  app.use("/api", (request, response, next) => {
    const started = performance.now();
    response.on("finish", () => {
      const who = response.locals.caller as Caller | undefined;
      options.log.request({
        method: request.method,
        route: request.route?.path ? `/api${request.route.path}` : request.path,
        status: response.statusCode,
        user: who?.user,
        owner: who?.owner,
        key: typeof response.locals.key === "string" ? response.locals.key : undefined,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      });
    });
    next();
  });

  app.use("/api", (request: Request, response: Response, next: NextFunction) => {
    const header = request.headers.authorization ?? "";
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) {
      next(new HttpError(401, "missing bearer token: send 'Authorization: Bearer <token>'"));
      return;
    }
    options
      .review(token)
      .then(
        (identity) => {
          if (!identity) throw new HttpError(401, "the token was not accepted by the cluster: log in again");
          const owner = ownerOf(identity.username, options.mapping);
          if (owner.kind === "refused") throw new HttpError(403, owner.message);
          response.locals.caller = {
            user: identity.username,
            owner: owner.owner,
            storeId: owner.storeId,
          } satisfies Caller;
          next();
        },
        (error: unknown) =>
          next(
            error instanceof HttpError
              ? error
              : new HttpError(503, "cannot check the token right now: try again"),
          ),
      )
      .catch(next);
  });

  app.get("/api/v1/secrets", (_request, response, next) => {
    const who = caller(response);
    options.store.list(who.storeId).then((keys) => {
      response.json({ owner: who.owner, secrets: keys.map((key) => ({ key })) });
    }, next);
  });

  app.post("/api/v1/secrets", express.json({ limit: MAX_BODY_BYTES }), (request, response, next) => {
    const who = caller(response);
    const body = request.body as unknown;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      next(new HttpError(400, 'the body must be a JSON object: {"key": "NAME", "value": "<base64>"}'));
      return;
    }
    const { key, value } = body as { key?: unknown; value?: unknown };
    if (typeof key !== "string" || !isValidSecretName(key)) {
      next(new HttpError(400, `invalid secret name ${JSON.stringify(key)}: ${SECRET_NAME_RULE}`));
      return;
    }
    response.locals.key = key;
    if (typeof value !== "string" || !BASE64.test(value)) {
      next(
        new HttpError(400, "value must be the secret's bytes in base64 (standard alphabet, with padding)"),
      );
      return;
    }
    if (Buffer.byteLength(value, "base64") > MAX_VALUE_BYTES) {
      next(new HttpError(413, `the value of '${key}' is larger than 1 MiB, the limit of a secret`));
      return;
    }
    options.store.put(who.storeId, key, value).then(() => {
      response.status(201).json({ owner: who.owner, key });
    }, next);
  });

  app.delete("/api/v1/secrets/:key", (request, response, next) => {
    const who = caller(response);
    const key = String(request.params.key);
    response.locals.key = key;
    if (!isValidSecretName(key)) {
      next(new HttpError(400, `invalid secret name '${key}': ${SECRET_NAME_RULE}`));
      return;
    }
    options.store
      .remove(who.storeId, key)
      .then((removed) => {
        if (!removed) throw new HttpError(404, `you have no secret named '${key}'`);
        response.status(204).end();
      }, next)
      .catch(next);
  });

  // Values can never be read back, by design.
  app.get("/api/v1/secrets/:key", (_request, _response, next) => {
    next(new HttpError(405, "secret values cannot be read back; GET /api/v1/secrets lists the names"));
  });

  app.use((_request, _response, next) => {
    next(new HttpError(404, "not found: the API serves /api/v1/secrets and /api/v1/secrets/{key}"));
  });

  const onError: ErrorRequestHandler = (error: unknown, _request, response, _next) => {
    if (error instanceof HttpError) {
      response.status(error.status).json({ error: error.message });
      return;
    }
    if (error instanceof StoreFullError) {
      response.status(413).json({ error: error.message });
      return;
    }
    const type = typeof error === "object" && error !== null && "type" in error ? String(error.type) : "";
    if (type === "entity.too.large") {
      response.status(413).json({ error: "the request is larger than a 1 MiB secret allows" });
    } else if (type === "entity.parse.failed") {
      response
        .status(400)
        .json({ error: 'the body is not valid JSON: send {"key": "NAME", "value": "<base64>"}' });
    } else {
      options.log.error("secrets API request failed", error);
      response
        .status(500)
        .json({ error: "internal error: nothing was changed unless the request says otherwise; try again" });
    }
  };
  app.use(onError);
  return app;
}
