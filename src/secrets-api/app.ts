// The write-only secrets API, in the platform secrets service's wire format (README, "Secrets API
// wire format"): POST /api/v1/secrets (add or overwrite), GET /api/v1/secrets (names only, a JSON
// array), DELETE /api/v1/secrets/{key}; GET /api/v1/secrets/{key} is refused (405). No route ever
// returns a value. Every caller is authenticated with a bearer token; the routes (routes.ts)
// decide which store it may use.

import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";
import { probeRoutes } from "../lifecycle/probes.js";
import { type ByteBudget, bodyGate } from "./body-gate.js";
import { HttpError } from "./http-error.js";
import { type OwnerMapping, ownerOf } from "./owner-mapping.js";
import type { ProjectAccess } from "./project-access.js";
import { methodLabel, routeLabel } from "./request-labels.js";
import { type Caller, deleteSecret, listSecrets, putSecret, refuseRead } from "./routes.js";
import type { StoreWriter } from "./store-writer.js";
import { bearerToken, type Identity } from "./token-review.js";

export { MAX_VALUE_BYTES } from "./wire.js";

// A 1 MiB value is 1.34 MiB in base64, plus the JSON around it.
const MAX_BODY_BYTES = 1_500_000;
const LIST_ROUTE = "/api/v1/secrets";
const KEY_ROUTE = "/api/v1/secrets/:key";

export interface ApiLog {
  /**
   * Every field is bounded: method and route come from fixed sets, key is a valid name or absent,
   * owner a checked owner (or org/project) name.
   */
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
  /**
   * The project scope (--scope project): requests name a project's store, and this asks the
   * cluster whether the caller may use it. Undefined: the user scope, each caller's own store.
   */
  projects?: ProjectAccess | undefined;
}

export function createSecretsApi(options: SecretsApiOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");

  app.use(probeRoutes(options.readiness));

  app.use(requestLog(options.log));
  // In the project scope the cluster's RBAC decides, not the user name: no owner mapping.
  const mapping = options.projects ? undefined : options.mapping;
  const authenticate = authenticator(options.review, mapping);
  const context = { store: options.store, projects: options.projects };
  app.get(LIST_ROUTE, authenticate, listSecrets(context));
  const gate = bodyGate(options.bodyBudget, MAX_BODY_BYTES);
  app.post(LIST_ROUTE, authenticate, gate, express.json({ limit: MAX_BODY_BYTES }), putSecret(context));
  app.delete(KEY_ROUTE, authenticate, deleteSecret(context));
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
        owner: typeof response.locals.owner === "string" ? response.locals.owner : who?.own?.owner,
        key: typeof response.locals.key === "string" ? response.locals.key : undefined,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      });
    });
    next();
  };
}

/**
 * Runs first on every API route, so nothing of an unauthenticated request is read (its body
 * included) beyond the headers. Sets the caller; with a mapping (the user scope), also its owner,
 * whose own store is the only one it manages, and refuses a caller that maps to none.
 */
function authenticator(
  review: SecretsApiOptions["review"],
  mapping: OwnerMapping | undefined,
): RequestHandler {
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
          const owner = mapping ? ownerOf(identity.username, mapping) : undefined;
          if (owner?.kind === "refused") throw new HttpError(403, owner.message);
          response.locals.caller = {
            user: identity.username,
            identity,
            own: owner ? { owner: owner.owner, storeId: owner.storeId } : undefined,
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

const notFound: RequestHandler = (_request, _response, next) => {
  next(new HttpError(404, "not found: the API serves /api/v1/secrets and /api/v1/secrets/{key}"));
};

/** The answer to an error a route passed on; undefined for an unexpected one. */
function knownError(
  error: unknown,
): { status: number; message: string; headers?: Record<string, string> } | undefined {
  if (error instanceof HttpError)
    return { status: error.status, message: error.message, headers: error.headers };
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
      if (known.headers) response.set(known.headers);
      response.status(known.status).json({ error: known.message });
      return;
    }
    log.error("secrets API request failed", error);
    response
      .status(500)
      .json({ error: "internal error: nothing was changed unless the request says otherwise; try again" });
  };
}
