import { describe, expect, it } from "vitest";
import { ConfigError } from "./checks.js";
import { parseCommand } from "./command.js";
import type { Env } from "./reader.js";

const BASE = ["--namespace", "apolo", "--tls-cert-file=/c.crt", "--tls-key-file=/c.key", "--kubeconfig=/k"];

function api(args: string[], env: Env = {}) {
  const command = parseCommand(["api", ...args], env);
  if (command.command !== "api") throw new Error("not api");
  return command.config;
}

describe("parseCommand api", () => {
  it("has its own ports and the shared server defaults", () => {
    const config = api(BASE);
    expect(config).toEqual({
      port: 8444,
      metricsPort: 9091,
      bindAddress: "0.0.0.0",
      keepAliveTimeoutMs: 120_000,
      maxConnections: 1000,
      shutdownDelayMs: 5000,
      drainTimeoutMs: 20_000,
      kubeconfig: "/k",
      inCluster: undefined,
      logLevel: "info",
      tlsCertFile: "/c.crt",
      tlsKeyFile: "/c.key",
      tlsReloadIntervalMs: 5000,
      tlsSecret: undefined,
      certificates: undefined,
      namespace: "apolo",
      identity: { usernamePrefixes: [""] },
      maxInflightBodyBytes: 6 * 1024 * 1024,
      scope: "user",
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads its own variables (API_*), the shared ones, and lets flags win", () => {
    const env = {
      APOLO_SECRETS_WEBHOOK_API_PORT: "9444",
      APOLO_SECRETS_WEBHOOK_API_METRICS_PORT: "0",
      APOLO_SECRETS_WEBHOOK_API_NAMESPACE: "from-env",
      APOLO_SECRETS_WEBHOOK_USERNAME_PREFIX: "system:serviceaccount:apolo-users:",
      APOLO_SECRETS_WEBHOOK_PORT: "1",
      APOLO_SECRETS_WEBHOOK_LOG_LEVEL: "error",
      APOLO_SECRETS_WEBHOOK_TLS_SECRET: "apolo/api-tls",
    };
    expect(api(["--kubeconfig=/k"], env)).toMatchObject({
      port: 9444,
      metricsPort: 0,
      namespace: "from-env",
      identity: { usernamePrefixes: ["system:serviceaccount:apolo-users:"] },
      logLevel: "error",
      tlsSecret: { namespace: "apolo", name: "api-tls" },
    });
    expect(
      api(["--kubeconfig=/k", "--port=8000", "--namespace=flag", "--log-level=debug"], env),
    ).toMatchObject({
      port: 8000,
      namespace: "flag",
      logLevel: "debug",
    });
  });

  it("reads the identity rule as serve does, and the variable only the API read before", () => {
    const prefix = "system:serviceaccount:apolo-users:";
    const legacy = { APOLO_SECRETS_WEBHOOK_API_USERNAME_PREFIX: prefix };
    expect(api(BASE, legacy).identity).toEqual({ usernamePrefixes: [prefix] });
    // The shared variable and the flag win over it, even when empty.
    expect(api(BASE, { ...legacy, APOLO_SECRETS_WEBHOOK_USERNAME_PREFIX: "" }).identity).toEqual({
      usernamePrefixes: [""],
    });
    expect(api([...BASE, "--username-prefix=oidc:,"], legacy).identity).toEqual({
      usernamePrefixes: ["oidc:", ""],
    });
    expect(() => api([...BASE, "--username-prefix=a:,a:b:"])).toThrow(
      "--username-prefix (APOLO_SECRETS_WEBHOOK_USERNAME_PREFIX): 'a:' and 'a:b:' overlap",
    );
  });

  it("takes the store model from --scope or its own variable (API_SCOPE, not the webhook's SCOPE)", () => {
    expect(api([...BASE, "--scope=project"]).scope).toBe("project");
    expect(api(BASE, { APOLO_SECRETS_WEBHOOK_API_SCOPE: "project" }).scope).toBe("project");
    expect(api(BASE, { APOLO_SECRETS_WEBHOOK_SCOPE: "project" }).scope).toBe("user");
  });

  it("accepts keep-alive at or below 90 s: the API server does not call it", () => {
    expect(api([...BASE, "--keep-alive-timeout-ms=5000"]).keepAliveTimeoutMs).toBe(5000);
  });

  it.each([
    [
      [],
      /--namespace \(APOLO_SECRETS_WEBHOOK_API_NAMESPACE\) is required: the namespace whose store Secrets the API writes \(got ''\)/,
    ],
    [["--namespace=Apolo"], /--namespace .* is required: .* \(got 'Apolo'\)/],
    [["--namespace", "x".repeat(64)], /--namespace .* is required/],
  ])("refuses the namespace %j", (args, message) => {
    expect(() => api([...BASE.slice(2), ...args])).toThrow(message);
  });

  it.each([
    [["--port=99999"], /--port \(APOLO_SECRETS_WEBHOOK_API_PORT\) must be between 0 and 65535, got 99999/],
    [
      ["--metrics-port=x"],
      /--metrics-port \(APOLO_SECRETS_WEBHOOK_API_METRICS_PORT\) must be a whole number/,
    ],
    [
      ["--log-level=trace"],
      /--log-level \(APOLO_SECRETS_WEBHOOK_LOG_LEVEL\) must be debug, info, warn or error, got 'trace'/,
    ],
    [["--bind-address=not an address"], /--bind-address .* must be an IP address/],
    [["--scope=team"], /--scope \(APOLO_SECRETS_WEBHOOK_API_SCOPE\) must be 'user' or 'project', got 'team'/],
    [["--trusted-users=x"], /unknown option '--trusted-users' \(see --help\)/],
    [["--keep-alive-timeout-ms=999"], /must be between 1000 and 3600000/],
  ])("refuses %j", (args, message) => {
    expect(() => api([...BASE, ...args])).toThrow(ConfigError);
    expect(() => api([...BASE, ...args])).toThrow(message);
  });

  it("needs a kubeconfig outside a cluster, and reads the in-cluster address inside one", () => {
    expect(() => api(BASE.slice(0, 4))).toThrow(/--kubeconfig \(KUBECONFIG\) is required outside a cluster/);
    expect(api(BASE.slice(0, 4), { KUBERNETES_SERVICE_HOST: "fd00::1" }).inCluster).toEqual({
      host: "fd00::1",
      port: "443",
    });
  });
});
