// One identity rule for the webhook and the secrets API: the chart gives both Deployments the same
// --username-prefix (the shared variable), from identity.usernamePrefixes or the old
// api.usernamePrefix, and refuses values the servers would read another way.

import { describe, expect, it } from "vitest";
import { find, type Manifest, render } from "./helm.js";

interface Container {
  args: string[];
  env: Array<{ name: string; value?: string }>;
}

const VARIABLE = "APOLO_SECRETS_WEBHOOK_USERNAME_PREFIX";
const API = ["api.enabled=true", "api.namespace=platform-jobs"];
const SA = "system:serviceaccount:apolo-users:";

/** The env of each Deployment's container: the webhook's (`serve`) and the API's (`api`). */
function envs(manifests: Manifest[]): { serve: Container["env"]; api: Container["env"] } {
  const byCommand = new Map<string, Container["env"]>();
  for (const m of manifests.filter((m) => m.kind === "Deployment")) {
    const container = (m.spec as { template: { spec: { containers: Container[] } } }).template.spec
      .containers[0] as Container;
    byCommand.set(container.args[0] as string, container.env);
  }
  const serve = byCommand.get("serve");
  const api = byCommand.get("api");
  if (!serve || !api) throw new Error(`expected a serve and an api Deployment, got ${[...byCommand.keys()]}`);
  return { serve, api };
}

/** The identity rule each Deployment gets, and that no other variable names a prefix. */
function prefixes(values: string[]): { serve: string | undefined; api: string | undefined } {
  const { serve, api } = envs(render([...API, ...values]));
  for (const env of [serve, api])
    expect(env.filter((e) => e.name.endsWith("USERNAME_PREFIX")).map((e) => e.name)).toEqual([VARIABLE]);
  const value = (env: Container["env"]) => env.find((e) => e.name === VARIABLE)?.value;
  return { serve: value(serve), api: value(api) };
}

describe("identity.usernamePrefixes", () => {
  it("gives both Deployments names as they are by default", () => {
    expect(prefixes([])).toEqual({ serve: "", api: "" });
  });

  it("gives both Deployments the same list, an empty item included", () => {
    expect(prefixes([`json:identity.usernamePrefixes=["${SA}"]`])).toEqual({ serve: SA, api: SA });
    expect(prefixes([`json:identity.usernamePrefixes=["${SA}",""]`])).toEqual({
      serve: `${SA},`,
      api: `${SA},`,
    });
  });

  it("keeps the old api.usernamePrefix working, now for the webhook too", () => {
    expect(prefixes([`api.usernamePrefix=${SA}`])).toEqual({ serve: SA, api: SA });
  });

  it("gives the webhook the rule without the API as well", () => {
    const deployment = find(render([`json:identity.usernamePrefixes=["${SA}"]`]), "Deployment");
    const env = (deployment.spec as { template: { spec: { containers: Container[] } } }).template.spec
      .containers[0]?.env;
    expect(env?.find((e) => e.name === VARIABLE)?.value).toBe(SA);
  });

  it.each([
    [
      [`json:identity.usernamePrefixes=["${SA}"]`, "api.usernamePrefix=oidc:"],
      /set identity\.usernamePrefixes only: api\.usernamePrefix is its old name \(one prefix\), and both are set/,
    ],
    [
      ['json:identity.usernamePrefixes=["a:,b:"]'],
      /identity\/usernamePrefixes\/0.*(pattern|does not match)/i,
    ],
    [
      ['json:identity.usernamePrefixes=["a:","a:"]'],
      /at '\/identity\/usernamePrefixes': items at 0 and 1 are equal/,
    ],
    [["identity.usernamePrefix=a:"], /additional properties 'usernamePrefix' not allowed/i],
  ])("refuses %j with a clear message", (values, message) => {
    expect(() => render([...API, ...values])).toThrow(message);
  });
});
