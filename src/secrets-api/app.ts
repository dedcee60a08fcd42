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
import { SECRET_NAME_RULE } from "../core/messages.js";
import { isValidSecretName } from "../core/reference.js";
import { isBase64 } from "./base64.js";
import { excerpt } from "./excerpt.js";
import { type OwnerMapping, ownerOf } from "./owner-mapping.js";
import { methodLabel, routeLabel } from "./request-labels.js";
import { StoreFullError, type StoreWriter } from "./store-writer.js";
import { bearerToken, type Identity } from "./token-review.js";

/** The platform's limit on one secret's value. */
export const MAX_VALUE_BYTES = 1024 * 1024;
// A 1 MiB value is 1.34 MiB in base64, plus the JSON around it.
const MAX_BODY_BYTES = 1_500_000;
const LIST_ROUTE = "/api/v1/secrets";
const KEY_ROUTE = "/api/v1/secrets/:key";

export interface ApiLog {
  /** Every field is bounded: method and route come from fixed sets, key is a valid name or absent. */
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

/** A field of a parsed JSON body, only when the body itself has it (never an inherited property). */
function ownField(body: object, name: string): unknown {
  return Object.hasOwn(body, name) ? (body as Record<string, unknown>)[name] : undefined;
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

  // One log line per request (but the probes): who, which route, which key name, the status.
  // Never a value; never the raw path or method either, which are the caller's text and would
  // make one metric series per distinct path: the route template or "unmatched" instead.
  app.use((request, response, next) => {
    const started = performance.now();
    response.on("finish", () => {
      const who = response.locals.caller as Caller | undefined;
      options.log.request({
        method: methodLabel(request.method),
        route: routeLabel(request.route?.path, [LIST_ROUTE, KEY_ROUTE]),
        status: response.statusCode,
        user: who?.user,
        owner: who?.owner,
        key: typeof response.locals.key === "string" ? response.locals.key : undefined,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      });
    });
    next();
  });

  // Runs first on every API route, so nothing of an unauthenticated request is read (its body
  // included) beyond the headers.
  const authenticate = (request: Request, response: Response, next: NextFunction) => {
    const token = bearerToken(request.headers.authorization);
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
  };

  app.get(LIST_ROUTE, authenticate, (_request, response, next) => {
    const who = caller(response);
    options.store.list(who.storeId).then((keys) => {
      response.json({ owner: who.owner, secrets: keys.map((key) => ({ key })) });
    }, next);
  });

  app.post(LIST_ROUTE, authenticate, express.json({ limit: MAX_BODY_BYTES }), (request, response, next) => {
    const who = caller(response);
    const body = request.body as unknown;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      next(new HttpError(400, 'the body must be a JSON object: {"key": "NAME", "value": "<base64>"}'));
      return;
    }
    const key = ownField(body, "key");
    const value = ownField(body, "value");
    if (typeof key !== "string") {
      next(new HttpError(400, `the body needs "key", the secret's name as a string: ${SECRET_NAME_RULE}`));
      return;
    }
    if (!isValidSecretName(key)) {
      next(new HttpError(400, `invalid secret name ${JSON.stringify(excerpt(key))}: ${SECRET_NAME_RULE}`));
      return;
    }
    response.locals.key = key;
    if (typeof value !== "string" || !isBase64(value)) {
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

  app.delete(KEY_ROUTE, authenticate, (request, response, next) => {
    const who = caller(response);
    const key = String(request.params.key);
    if (!isValidSecretName(key)) {
      next(new HttpError(400, `invalid secret name '${excerpt(key)}': ${SECRET_NAME_RULE}`));
      return;
    }
    response.locals.key = key;
    options.store
      .remove(who.storeId, key)
      .then((removed) => {
        if (!removed) throw new HttpError(404, `you have no secret named '${key}'`);
        response.status(204).end();
      }, next)
      .catch(next);
  });

  // Values can never be read back, by design.
  app.get(KEY_ROUTE, authenticate, (_request, _response, next) => {
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
    // The router could not decode a path parameter ("%zz"): the caller's mistake, not ours.
    if (error instanceof URIError) {
      response
        .status(400)
        .json({ error: "the path is not valid percent-encoding: encode the secret name as a URI component" });
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
