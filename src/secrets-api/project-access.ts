// Who may use a project's store is the cluster's decision, not the API's: each request in the
// project scope asks the API server with a SubjectAccessReview whether the caller (its user,
// groups, uid and extra, as its TokenReview gave them) may `get` (list the names) or `update`
// (add, remove) the resource `projects` of the API group `secrets.apolo.us` named
// `{org}--{project}` in the stores' namespace. Operators grant members with an ordinary Role.

import type { KubeClient } from "../kube/api-client.js";
import type { Identity } from "./token-review.js";

export const PROJECT_API_GROUP = "secrets.apolo.us";
export const PROJECT_RESOURCE = "projects";

/** `get`: list a project's secret names; `update`: add or remove its secrets. */
export type ProjectVerb = "get" | "update";

export interface ProjectRef {
  org: string;
  project: string;
}

/** What the app needs: the cluster's answer, and the permission asked, worded for a refusal. */
export interface ProjectAccess {
  allowed(identity: Identity, project: ProjectRef, verb: ProjectVerb): Promise<boolean>;
  permission(project: ProjectRef, verb: ProjectVerb): string;
}

/** The RBAC resource name of a project: org and project names never contain "--". */
export function projectResourceName(project: ProjectRef): string {
  return `${project.org}--${project.project}`;
}

interface SubjectAccessReviewStatus {
  status?: { allowed?: boolean };
}

export class SubjectAccessReviewer implements ProjectAccess {
  readonly #api: Pick<KubeClient, "request">;
  readonly #namespace: string;
  // Each review in flight holds a request to the API server: beyond this many, callers are told
  // to retry (503) rather than queued without bound, as for token reviews.
  readonly #maxInFlight: number;
  #inFlight = 0;

  constructor(api: Pick<KubeClient, "request">, namespace: string, maxInFlight = 64) {
    this.#api = api;
    this.#namespace = namespace;
    this.#maxInFlight = maxInFlight;
  }

  permission(project: ProjectRef, verb: ProjectVerb): string {
    return `'${verb}' on ${PROJECT_RESOURCE}.${PROJECT_API_GROUP} '${projectResourceName(project)}' in namespace '${this.#namespace}'`;
  }

  async allowed(identity: Identity, project: ProjectRef, verb: ProjectVerb): Promise<boolean> {
    if (this.#inFlight >= this.#maxInFlight) throw new Error("too many access reviews in flight");
    this.#inFlight++;
    try {
      const answer = await this.#api.request<SubjectAccessReviewStatus>(
        "POST",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        { body: this.review(identity, project, verb), timeoutMs: 5_000 },
      );
      return answer.status?.allowed === true;
    } finally {
      this.#inFlight--;
    }
  }

  /** The SubjectAccessReview asked (public for its tests). */
  review(identity: Identity, project: ProjectRef, verb: ProjectVerb): object {
    return {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user: identity.username,
        groups: [...identity.groups],
        ...(identity.uid ? { uid: identity.uid } : {}),
        ...(identity.extra ? { extra: identity.extra } : {}),
        resourceAttributes: {
          namespace: this.#namespace,
          group: PROJECT_API_GROUP,
          resource: PROJECT_RESOURCE,
          name: projectResourceName(project),
          verb,
        },
      },
    };
  }
}
