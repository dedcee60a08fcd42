// The chart's api.scope: the API's store model follows webhook.scope unless set, and only the
// project scope lets the API's service account create SubjectAccessReviews.

import { describe, expect, it } from "vitest";
import { find, type Manifest, render } from "./helm.js";

const API = ["api.enabled=true", "api.namespace=platform-jobs"];
const NAME = "asw-apolo-secrets-webhook-api";

function apiEnv(m: Manifest[]): Record<string, string> {
  const spec = find(m, "Deployment", NAME).spec as {
    template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } };
  };
  return Object.fromEntries((spec.template.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
}

function reviewRules(m: Manifest[]): unknown {
  return find(m, "ClusterRole", `${NAME}-token-review`).rules;
}

const TOKEN_REVIEWS = {
  apiGroups: ["authentication.k8s.io"],
  resources: ["tokenreviews"],
  verbs: ["create"],
};
const ACCESS_REVIEWS = {
  apiGroups: ["authorization.k8s.io"],
  resources: ["subjectaccessreviews"],
  verbs: ["create"],
};

describe("api.scope", () => {
  it("is the user scope by default: token reviews only", () => {
    const m = render(API);
    expect(apiEnv(m).APOLO_SECRETS_WEBHOOK_API_SCOPE).toBe("user");
    expect(reviewRules(m)).toEqual([TOKEN_REVIEWS]);
  });

  it("follows webhook.scope when empty, and may be set on its own", () => {
    const follows = render([...API, "webhook.scope=project"]);
    expect(apiEnv(follows).APOLO_SECRETS_WEBHOOK_API_SCOPE).toBe("project");
    expect(reviewRules(follows)).toEqual([TOKEN_REVIEWS, ACCESS_REVIEWS]);
    const own = render([...API, "api.scope=project"]);
    expect(apiEnv(own).APOLO_SECRETS_WEBHOOK_API_SCOPE).toBe("project");
    expect(reviewRules(own)).toEqual([TOKEN_REVIEWS, ACCESS_REVIEWS]);
    const user = render([...API, "webhook.scope=project", "api.scope=user"]);
    expect(apiEnv(user).APOLO_SECRETS_WEBHOOK_API_SCOPE).toBe("user");
    expect(reviewRules(user)).toEqual([TOKEN_REVIEWS]);
  });

  it("refuses any other value", () => {
    expect(() => render([...API, "api.scope=team"])).toThrow(/at '\/api\/scope': value must be one of/);
  });
});
