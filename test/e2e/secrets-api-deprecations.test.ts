// The real `api` process started with the variable only it read before the webhook shared the
// identity rule (APOLO_SECRETS_WEBHOOK_API_USERNAME_PREFIX) logs a deprecation warning at start.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { stopProcess } from "../cluster/processes.js";
import { startSecretsApi } from "../cluster/secrets-api.js";
import { e2e, freshNamespace } from "./support.js";

const local = e2e().local;

describe.runIf(local !== undefined)("the secrets API's deprecated settings", () => {
  it("warns at start that …_API_USERNAME_PREFIX is deprecated (here ignored: the flag is given)", async () => {
    if (!local) return;
    const namespace = await freshNamespace("api-deprecated");
    const api = await startSecretsApi(local.plane, namespace, {
      ...process.env,
      APOLO_SECRETS_WEBHOOK_API_USERNAME_PREFIX: "system:serviceaccount:apolo-users:",
    });
    try {
      const log = readFileSync(api.managed.logFile, "utf8").slice(api.managed.logStart);
      const line = log.split("\n").find((text) => text.includes("deprecated setting"));
      expect(line, log).toBeDefined();
      expect(line).toContain("APOLO_SECRETS_WEBHOOK_API_USERNAME_PREFIX is deprecated and ignored here");
      expect(line).toContain("warn");
    } finally {
      await stopProcess(local.plane.pidFile, "secrets-api");
    }
  }, 60_000);
});
