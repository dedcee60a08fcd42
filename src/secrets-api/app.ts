// The write-only secrets API: POST /api/v1/secrets (add or overwrite), GET /api/v1/secrets
// (names only), DELETE /api/v1/secrets/{key}. No route ever returns a value. Every caller is
// authenticated with a bearer token and manages only its own store.

import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Response } from "express";
import { SECRET_NAME_RULE } from "../core/messages.js";
import { isValidSecretName } from "../core/reference.js";
import { probeRoutes } from "../lifecycle/probes.js";
import { isBase64 } from "./base64.js";
import { type ByteBudget, bodyGate } from "./body-gate.js";
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
  /** Bytes of request bodies held at once (--max-inflight-body-bytes); beyond it 429. */
  bodyBudget?: ByteBudget | undefined;
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

  app.use(probeRoutes(options.readiness));

  app.use(requestLog(options.log));
  const authenticate = authenticator(options.review, options.mapping);
  app.get(LIST_ROUTE, authenticate, listSecrets(options.store));
  const gate = bodyGate(options.bodyBudget, MAX_BODY_BYTES);
  app.post(LIST_ROUTE, authenticate, gate, express.json({ limit: MAX_BODY_BYTES }), putSecret(options.store));
  app.delete(KEY_ROUTE, authenticate, deleteSecret(options.store));
  app.get(KEY_ROUTE, authenticate, refuseRead);
  app.use(notFound);
  app.use(errorHandler(options.log));
  return app;
}

/**
 * One log line per request (but the probes, routed before it): who, which route, which key name,
 * the status. Never a value; never the raw path or method either, which are the caller's text and
 * would make one metric series per distinct path: the route template or "unmatched" instead.
 */
function requestLog(log: ApiLog): RequestHandler {
  return (request, response, next) => {
    const started = performance.now();
    response.on("finish", () => {
      const who = response.locals.caller as Caller | undefined;
      log.request({
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
  };
}

/**
 * Runs first on every API route, so nothing of an unauthenticated request is read (its body
 * included) beyond the headers. Sets the caller, whose own store is the only one it manages.
 */
function authenticator(review: SecretsApiOptions["review"], mapping: OwnerMapping): RequestHandler {
  return (request, response, next) => {
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      next(new HttpError(401, "missing bearer token: send 'Authorization: Bearer <token>'"));
      return;
    }
    review(token)
      .then(
        (identity) => {
          if (!identity) throw new HttpError(401, "the token was not accepted by the cluster: log in again");
          const owner = ownerOf(identity.username, mapping);
          if (owner.kind === "refused") throw new HttpError(403, owner.message);
          response.locals.caller = {
            user: identity.username,
            owner: owner.owner,
            storeId: owner.storeId,
          } satisfies Caller;
          next();
        },
        (error: unknown) => {
          if (!(error instanceof HttpError)) response.set("retry-after", "1");
          next(
            error instanceof HttpError
              ? error
              : new HttpError(503, "cannot check the token right now: try again"),
          );
        },
      )
      .catch(next);
  };
}

/** GET /api/v1/secrets: the caller's key names. */
function listSecrets(store: StoreWriter): RequestHandler {
  return (_request, response, next) => {
    const who = caller(response);
    store.list(who.storeId).then((keys) => {
      response.json({ owner: who.owner, secrets: keys.map((key) => ({ key })) });
    }, next);
  };
}

/** POST /api/v1/secrets: adds or overwrites one secret. */
function putSecret(store: StoreWriter): RequestHandler {
  return (request, response, next) => {
    const who = caller(response);
    const body = request.body as unknown;
    const key = bodyKey(body);
    if (key instanceof HttpError) {
      next(key);
      return;
    }
    response.locals.key = key;
    const value = bodyValue(body as object, key);
    if (value instanceof HttpError) {
      next(value);
      return;
    }
    store.put(who.storeId, key, value).then(() => {
      response.status(201).json({ owner: who.owner, key });
    }, next);
  };
}

/** The body's "key": a valid secret name, or the error saying what is wrong. */
function bodyKey(body: unknown): string | HttpError {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return new HttpError(400, 'the body must be a JSON object: {"key": "NAME", "value": "<base64>"}');
  }
  const key = ownField(body, "key");
  if (typeof key !== "string") {
    return new HttpError(400, `the body needs "key", the secret's name as a string: ${SECRET_NAME_RULE}`);
  }
  if (!isValidSecretName(key)) {
    return new HttpError(400, `invalid secret name ${JSON.stringify(excerpt(key))}: ${SECRET_NAME_RULE}`);
  }
  return key;
}

/** The body's "value": base64 of at most MAX_VALUE_BYTES, or the error saying what is wrong. */
function bodyValue(body: object, key: string): string | HttpError {
  const value = ownField(body, "value");
  if (typeof value !== "string" || !isBase64(value)) {
    return new HttpError(400, "value must be the secret's bytes in base64 (standard alphabet, with padding)");
  }
  if (Buffer.byteLength(value, "base64") > MAX_VALUE_BYTES) {
    return new HttpError(413, `the value of '${key}' is larger than 1 MiB, the limit of a secret`);
  }
  return value;
}

/** DELETE /api/v1/secrets/{key}. */
function deleteSecret(store: StoreWriter): RequestHandler {
  return (request, response, next) => {
    const who = caller(response);
    const key = String(request.params.key);
    if (!isValidSecretName(key)) {
      next(new HttpError(400, `invalid secret name '${excerpt(key)}': ${SECRET_NAME_RULE}`));
      return;
    }
    response.locals.key = key;
    store
      .remove(who.storeId, key)
      .then((removed) => {
        if (!removed) throw new HttpError(404, `you have no secret named '${key}'`);
        response.status(204).end();
      }, next)
      .catch(next);
  };
}

/** GET /api/v1/secrets/{key}: values can never be read back, by design. */
const refuseRead: RequestHandler = (_request, _response, next) => {
  next(new HttpError(405, "secret values cannot be read back; GET /api/v1/secrets lists the names"));
};

const notFound: RequestHandler = (_request, _response, next) => {
  next(new HttpError(404, "not found: the API serves /api/v1/secrets and /api/v1/secrets/{key}"));
};

/** The answer to an error a route passed on; undefined for an unexpected one. */
function knownError(error: unknown): { status: number; message: string } | undefined {
  if (error instanceof HttpError) return { status: error.status, message: error.message };
  if (error instanceof StoreFullError) return { status: 413, message: error.message };
  // The router could not decode a path parameter ("%zz"): the caller's mistake, not ours.
  if (error instanceof URIError) {
    return {
      status: 400,
      message: "the path is not valid percent-encoding: encode the secret name as a URI component",
    };
  }
  const type = typeof error === "object" && error !== null && "type" in error ? String(error.type) : "";
  if (type === "entity.too.large")
    return { status: 413, message: "the request is larger than a 1 MiB secret allows" };
  if (type === "entity.parse.failed") {
    return { status: 400, message: 'the body is not valid JSON: send {"key": "NAME", "value": "<base64>"}' };
  }
  return undefined;
}

function errorHandler(log: ApiLog): ErrorRequestHandler {
  return (error: unknown, _request, response, _next) => {
    const known = knownError(error);
    if (known) {
      response.status(known.status).json({ error: known.message });
      return;
    }
    log.error("secrets API request failed", error);
    response
      .status(500)
      .json({ error: "internal error: nothing was changed unless the request says otherwise; try again" });
  };
}
