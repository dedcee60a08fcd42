// The variable only the API read before the webhook shared the identity rule
// (APOLO_SECRETS_WEBHOOK_API_USERNAME_PREFIX): still honoured, but a warning to log at start.

import { describe, expect, it } from "vitest";
import { parseCommand } from "./command.js";
import type { Env } from "./reader.js";

const BASE = ["--namespace", "apolo", "--tls-cert-file=/c.crt", "--tls-key-file=/c.key", "--kubeconfig=/k"];

function api(args: string[], env: Env = {}) {
  const command = parseCommand(["api", ...args], env);
  if (command.command !== "api") throw new Error("not api");
  return command.config;
}

describe("api's deprecated settings", () => {
  const legacy = { APOLO_SECRETS_WEBHOOK_API_USERNAME_PREFIX: "system:serviceaccount:apolo-users:" };

  it("warns when the legacy variable is what sets the identity rule", () => {
    expect(api(BASE, legacy).deprecations).toEqual([
      "APOLO_SECRETS_WEBHOOK_API_USERNAME_PREFIX is deprecated and read only by the API, not by the webhook: set APOLO_SECRETS_WEBHOOK_USERNAME_PREFIX (or --username-prefix) instead, which the webhook (serve) reads too",
    ]);
  });

  it("warns that it is ignored when the shared variable or the flag is given", () => {
    const shared = api(BASE, { ...legacy, APOLO_SECRETS_WEBHOOK_USERNAME_PREFIX: "" }).deprecations;
    expect(shared).toHaveLength(1);
    expect(shared?.[0]).toContain("is deprecated and ignored here");
    expect(api([...BASE, "--username-prefix=oidc:"], legacy).deprecations?.[0]).toContain("remove it");
  });

  it("has no warning without it", () => {
    expect(api(BASE, { APOLO_SECRETS_WEBHOOK_USERNAME_PREFIX: "x:" }).deprecations).toBeUndefined();
  });
});
