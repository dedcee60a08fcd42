// The platform's tokens as the API server reads them: a token of the test identity provider
// reviews as the user its claim names, and a claim that poses as a service account (or any
// `system:` identity) is refused by the authentication configuration's validation rule, so no
// platform user can become another owner through the identity rule's service-account prefix.

import { AuthenticationV1Api } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { platformToken } from "../cluster/identity-provider.js";
import { e2e, kubeConfig } from "./support.js";

const local = e2e().local;

async function review(token: string): Promise<{ authenticated: boolean; username: string | undefined }> {
  const client = kubeConfig("admin").makeApiClient(AuthenticationV1Api);
  const answer = await client.createTokenReview({
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
  });
  return { authenticated: answer.status?.authenticated === true, username: answer.status?.user?.username };
}

describe("platform tokens through the API server", () => {
  it("reviews a platform token as the user its claim names", async () => {
    expect(local, "the platform identity provider runs only with the local control plane").toBeDefined();
    if (!local) return;
    expect(await review(platformToken(local.plane.identityProvider, "alice"))).toEqual({
      authenticated: true,
      username: "alice",
    });
  });

  it.each([
    "system:serviceaccount:apolo-users:bob",
    "system:serviceaccount:kube-system:job-controller",
    "system:admin",
  ])("refuses a claim posing as %s", async (name) => {
    expect(local).toBeDefined();
    if (!local) return;
    const answer = await review(platformToken(local.plane.identityProvider, name));
    expect(answer.authenticated).toBe(false);
    expect(answer.username ?? "").not.toBe(name);
  });
});
