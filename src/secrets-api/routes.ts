// The secrets API's routes, in the platform's wire format (wire.ts): add or overwrite, list names,
// remove, and the refused read. Which store a request uses: in the user scope always the caller's
// own (whatever org or project it names, which are only echoed); in the project scope the store of
// the org and project it names, once the cluster's RBAC allows the caller (project-access.ts).

import type { RequestHandler, Response } from "express";
import { projectStoreName, userStoreName } from "../core/owner.js";
import { HttpError } from "./http-error.js";
import type { ProjectAccess, ProjectVerb } from "./project-access.js";
import { StoreFullError, type StoreWriter } from "./store-writer.js";
import type { Identity } from "./token-review.js";
import {
  bodyKey,
  bodyValue,
  notFoundMessage,
  type Placement,
  pathKey,
  placementOfBody,
  placementOfQuery,
  secretEntry,
} from "./wire.js";

/** The authenticated caller; `own` is its own store's owner (user scope only). */
export interface Caller {
  user: string;
  identity: Identity;
  own: { owner: string; storeId: string } | undefined;
}

export interface RouteContext {
  store: StoreWriter;
  /** The project scope's access check; undefined in the user scope. */
  projects: ProjectAccess | undefined;
}

/** The store a request uses and the owner answers name. */
interface Target {
  store: string;
  owner: string;
}

function caller(response: Response): Caller {
  return response.locals.caller as Caller;
}

/** Sets the owner the request log names (names only: a checked user, org or project name). */
function logged(response: Response, target: Target): Target {
  response.locals.owner = target.owner;
  return target;
}

/** The store of this request, or the error saying why it may not use one. */
async function targetOf(
  context: RouteContext,
  response: Response,
  placement: Placement,
  verb: ProjectVerb,
): Promise<Target> {
  const who = caller(response);
  const access = context.projects;
  if (!access) {
    // The authenticator refused callers without an owner in this scope.
    const own = who.own as NonNullable<Caller["own"]>;
    return logged(response, { store: userStoreName(own.storeId), owner: own.owner });
  }
  const { org, project } = placement;
  if (org === null || project === null) {
    throw new HttpError(
      400,
      "org_name and project_name are both required: secrets belong to a project (apolo-secret --org ORG --project PROJECT, or apolo config switch-project)",
    );
  }
  const target = logged(response, { store: projectStoreName(org, project), owner: `${org}/${project}` });
  let allowed: boolean;
  try {
    allowed = await access.allowed(who.identity, { org, project }, verb);
  } catch {
    throw new HttpError(503, "cannot check your access to the project right now: try again", {
      "retry-after": "1",
    });
  }
  if (!allowed) {
    const action = verb === "update" ? "change" : "list";
    throw new HttpError(
      403,
      `'${who.user}' may not ${action} the secrets of project '${org}/${project}': that needs ${access.permission({ org, project }, verb)}; ask the cluster operator to grant it (a Role and RoleBinding)`,
    );
  }
  return target;
}

/** GET {base}?org_name=&project_name=: the store's key names, as a sorted JSON array. */
export function listSecrets(context: RouteContext): RequestHandler {
  return (request, response, next) => {
    const placement = placementOfQuery(request.query);
    if (placement instanceof HttpError) {
      next(placement);
      return;
    }
    targetOf(context, response, placement, "get")
      .then(async (target) => {
        const keys = await context.store.list(target.store);
        response.json(keys.map((key) => secretEntry(key, placement, target.owner)));
      })
      .catch(next);
  };
}

/** POST {base} {"key", "value", "org_name", "project_name"}: adds or overwrites one secret. */
export function putSecret(context: RouteContext): RequestHandler {
  return (request, response, next) => {
    const body = request.body as unknown;
    const key = bodyKey(body);
    if (key instanceof HttpError) {
      next(key);
      return;
    }
    response.locals.key = key;
    const value = bodyValue(body as object, key);
    const placement = placementOfBody(body as object);
    const problem = [value, placement].find((field) => field instanceof HttpError);
    if (problem) {
      next(problem);
      return;
    }
    const checked = placement as Placement;
    targetOf(context, response, checked, "update")
      .then(async (target) => {
        await context.store.put(target.store, key, value as string).catch((error: unknown) => {
          if (!(error instanceof StoreFullError)) throw error;
          const whose = context.projects ? "the project's secrets" : "your secrets";
          throw new HttpError(
            413,
            `${whose} together would exceed 1 MiB, the most one store can hold: remove some first`,
          );
        });
        response.status(201).json(secretEntry(key, checked, target.owner));
      })
      .catch(next);
  };
}

/** DELETE {base}/{key}?org_name=&project_name=: 204, or 404 when the store has no such key. */
export function deleteSecret(context: RouteContext): RequestHandler {
  return (request, response, next) => {
    const key = pathKey(String(request.params.key));
    const placement = placementOfQuery(request.query);
    const problem = [key, placement].find((field) => field instanceof HttpError);
    if (problem) {
      next(problem);
      return;
    }
    response.locals.key = key;
    targetOf(context, response, placement as Placement, "update")
      .then(async (target) => {
        if (!(await context.store.remove(target.store, key as string))) {
          throw new HttpError(404, notFoundMessage(key as string));
        }
        response.status(204).end();
      })
      .catch(next);
  };
}

/** GET {base}/{key}: values are never read back, by design (the platform's service returns them). */
export const refuseRead: RequestHandler = (_request, _response, next) => {
  next(
    new HttpError(
      405,
      "secret values are never read back: this API only adds, lists names and removes; list the names with GET on the secrets URL (apolo secret ls, apolo-secret ls)",
      { allow: "DELETE" },
    ),
  );
};
