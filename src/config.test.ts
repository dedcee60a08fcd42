import { describe, expect, it } from "vitest";
import { ConfigError, duration, parseCommand } from "./config.js";
import { STORE_LABELS } from "./secrets-api/store-writer.js";

const TLS = ["--tls-cert-file", "/c.crt", "--tls-key-file", "/c.key"];

function serve(args: string[], env: Record<string, string> = {}) {
  const command = parseCommand(["serve", ...args], env);
  if (command.command !== "serve") throw new Error("not serve");
  return command.config;
}

describe("parseCommand serve", () => {
  it("has safe defaults: per-user scope, no trusted submitters, every namespace", () => {
    const config = serve(TLS);
    expect(config).toMatchObject({
      port: 8443,
      scope: "user",
      trustedUsers: [],
      trustedGroups: [],
      namespaces: [],
      clusterName: undefined,
    });
    expect(config.keepAliveTimeoutMs).toBeGreaterThan(90_000);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads the environment, and flags win over it", () => {
    const env = {
      APOLO_SECRETS_WEBHOOK_TLS_CERT_FILE: "/e.crt",
      APOLO_SECRETS_WEBHOOK_TLS_KEY_FILE: "/e.key",
      APOLO_SECRETS_WEBHOOK_TRUSTED_USERS: "system:serviceaccount:platform:api, ops",
      APOLO_SECRETS_WEBHOOK_SCOPE: "project",
      APOLO_SECRETS_WEBHOOK_PORT: "9443",
    };
    const config = serve(["--port", "10443"], env);
    expect(config).toMatchObject({
      tlsCertFile: "/e.crt",
      port: 10443,
      scope: "project",
      trustedUsers: ["system:serviceaccount:platform:api", "ops"],
    });
  });

  it.each([
    [[], /--tls-cert-file \(APOLO_SECRETS_WEBHOOK_TLS_CERT_FILE\) and --tls-key-file .* are required/],
    [[...TLS, "--port", "http"], /--port .* must be a whole number, got 'http'/],
    [[...TLS, "--port", "70000"], /must be between 0 and 65535/],
    [[...TLS, "--scope", "team"], /must be 'user' or 'project', got 'team'/],
    [[...TLS, "--keep-alive-timeout-ms", "60000"], /must exceed 90000/],
    [[...TLS, "--namespaces", "ok,Not_OK"], /'Not_OK' is not a valid namespace name/],
    [[...TLS, "--log-level", "loud"], /must be debug, info, warn or error/],
    [[...TLS, "--nope"], /Unknown option '--nope'/],
    [
      [...TLS, "--client-allowed-names", "kube-apiserver"],
      /--client-allowed-names \(APOLO_SECRETS_WEBHOOK_CLIENT_ALLOWED_NAMES\) needs --client-ca-file/,
    ],
    [
      [...TLS, "--max-inflight-body-bytes", "1048576"],
      /--max-inflight-body-bytes .* \(1048576\) must be at least --max-body-bytes .* \(7340032\), or the largest review could never be read/,
    ],
  ])("refuses %j with a clear message", (args, message) => {
    expect(() => serve(args)).toThrow(ConfigError);
    expect(() => serve(args)).toThrow(message);
  });

  it("asks only for labelled stores by default: the secrets API's and the platform's", () => {
    const selectors = serve(TLS).secretLabelSelectors;
    expect(selectors).toEqual([
      "platform.apolo.us/secrets-store=true",
      "platform.neuromation.io/secret-api-org-name",
    ]);
    expect(STORE_LABELS["platform.apolo.us/secrets-store"]).toBe("true");
    expect(
      serve([...TLS, "--secret-label-selector", " team=ml,tier in (a,b) ; !legacy "]).secretLabelSelectors,
    ).toEqual(["team=ml,tier in (a,b)", "!legacy"]);
  });

  it.each([
    [["--secret-label-selector", ""], /must name at least one label selector/],
    [["--secret-label-selector", " ; "], /must name at least one label selector/],
    [
      ["--secret-label-selector", Array.from({ length: 31 }, (_, i) => `k${i}`).join(";")],
      /at most 30 label selectors/,
    ],
    [["--secret-label-selector", "a=b;c=\\d"], /'c=\\d' is not a label selector/],
  ])("refuses the selectors %j", (args, message) => {
    expect(() => serve([...TLS, ...args])).toThrow(message);
  });

  it("leaves client authentication off by default and bounds the bodies in flight", () => {
    expect(serve(TLS)).toMatchObject({
      clientCaFile: undefined,
      clientAllowedNames: [],
      maxInflightBodyBytes: 16 * 1024 * 1024,
      maxConnections: 1000,
    });
    expect(parseCommand(["api", "--namespace", "jobs", ...TLS], {})).toMatchObject({
      config: { maxConnections: 1000, maxInflightBodyBytes: 16 * 1024 * 1024 },
    });
    const config = serve(TLS, {
      APOLO_SECRETS_WEBHOOK_CLIENT_CA_FILE: "/ca/client-ca.crt",
      APOLO_SECRETS_WEBHOOK_CLIENT_ALLOWED_NAMES: "kube-apiserver, apiserver-webhook-client",
      APOLO_SECRETS_WEBHOOK_MAX_INFLIGHT_BODY_BYTES: "67108864",
    });
    expect(config).toMatchObject({
      clientCaFile: "/ca/client-ca.crt",
      clientAllowedNames: ["kube-apiserver", "apiserver-webhook-client"],
      maxInflightBodyBytes: 67108864,
    });
  });

  it("refuses an unknown command", () => {
    expect(() => parseCommand(["serv"], {})).toThrow(
      /unknown command 'serv'; the commands are serve, api and mutate/,
    );
  });
});

describe("duration", () => {
  it("reads a whole number and a unit, around spaces", () => {
    expect(duration("d", "250ms")).toBe(250);
    expect(duration("d", " 90s ")).toBe(90_000);
    expect(duration("d", "10m")).toBe(600_000);
    expect(duration("d", "720h")).toBe(720 * 3_600_000);
    expect(duration("d", "30d")).toBe(30 * 86_400_000);
  });

  it.each(["1.5h", "10", "ms", "10 s", "-5s", "5w", "5constructor", `${"9".repeat(100_000)}x`])(
    "refuses %j",
    (text) => {
      expect(() => duration("--ca-validity", text)).toThrow(
        `--ca-validity must be a duration like 90s, 10m, 720h or 30d, got '${text}'`,
      );
    },
  );

  it("refuses zero", () => {
    expect(() => duration("--ca-validity", "0s")).toThrow("--ca-validity must be longer than zero");
  });
});
