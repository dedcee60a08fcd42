import { describe, expect, it } from "vitest";
import { ConfigError } from "./checks.js";
import { parseSecretCommand, secretCliHelp } from "./secret-cli.js";

const NONE = {
  server: undefined,
  token: undefined,
  caFile: undefined,
  kubeconfig: undefined,
  org: undefined,
  project: undefined,
};

describe("parseSecretCommand", () => {
  it.each([
    [["add", "db_password", "s3cr3t"], { action: "add", key: "db_password", value: { literal: "s3cr3t" } }],
    [["add", "gcp-key", "@key.json"], { action: "add", key: "gcp-key", value: { file: "key.json" } }],
    [
      ["add", "k", "--", "-starts-with-dash"],
      { action: "add", key: "k", value: { literal: "-starts-with-dash" } },
    ],
    [["add", "k", ""], { action: "add", key: "k", value: { literal: "" } }],
    [["ls"], { action: "ls", key: undefined, value: undefined }],
    [["rm", "db_password"], { action: "rm", key: "db_password", value: undefined }],
    [[], { action: "help", key: undefined, value: undefined }],
    [["help"], { action: "help", key: undefined, value: undefined }],
    [["ls", "--help"], { action: "help", key: undefined, value: undefined }],
    [["-h"], { action: "help", key: undefined, value: undefined }],
  ])("reads %j", (argv, expected) => {
    expect(parseSecretCommand(argv, {})).toEqual({ ...NONE, ...expected });
  });

  it("takes server, token, CA and kubeconfig from flags, else from the environment", () => {
    const env = {
      APOLO_SECRETS_SERVER: "https://env",
      APOLO_SECRETS_TOKEN: "env-token",
      APOLO_SECRETS_CA_FILE: "/env/ca.crt",
      KUBECONFIG: "/first:/second",
    };
    expect(parseSecretCommand(["ls"], env)).toMatchObject({
      server: "https://env",
      token: "env-token",
      caFile: "/env/ca.crt",
      kubeconfig: "/first",
    });
    const flags = [
      "--server=https://flag",
      "--token",
      "flag-token",
      "--ca-file=/flag/ca.crt",
      "--kubeconfig",
      "/k",
    ];
    expect(parseSecretCommand(["ls", ...flags], env)).toMatchObject({
      server: "https://flag",
      token: "flag-token",
      caFile: "/flag/ca.crt",
      kubeconfig: "/k",
    });
    expect(parseSecretCommand([...flags, "rm", "k"], {})).toMatchObject({ action: "rm", key: "k" });
    // An empty KUBECONFIG means the default file, as for kubectl.
    expect(parseSecretCommand(["ls"], { KUBECONFIG: "" }).kubeconfig).toBeUndefined();
  });

  it("takes the org and project from --org and --project, else APOLO_SECRETS_ORG and _PROJECT; empty is none", () => {
    const env = { APOLO_SECRETS_ORG: "acme", APOLO_SECRETS_PROJECT: "vision" };
    expect(parseSecretCommand(["ls"], env)).toMatchObject({ org: "acme", project: "vision" });
    expect(parseSecretCommand(["rm", "k", "--org=other", "--project", "nlp"], env)).toMatchObject({
      action: "rm",
      key: "k",
      org: "other",
      project: "nlp",
    });
    expect(parseSecretCommand(["ls", "--org="], { APOLO_SECRETS_PROJECT: "" })).toMatchObject({
      org: undefined,
      project: undefined,
    });
    const help = secretCliHelp();
    for (const text of ["--org ORG", "APOLO_SECRETS_ORG", "--project PROJECT", "APOLO_SECRETS_PROJECT"])
      expect(help).toContain(text);
  });

  it.each([
    [["add"], "usage: apolo-secret add KEY VALUE  (or add KEY @path/to/file)"],
    [["add", "k"], "usage: apolo-secret add KEY VALUE  (or add KEY @path/to/file)"],
    [["rm"], "usage: apolo-secret rm KEY"],
    [["rm", "a", "b"], "usage: apolo-secret rm KEY"],
    [["ls", "x"], "usage: apolo-secret ls"],
    [["add", "k", "v", "w"], "too many arguments: w"],
    [["get", "k"], "unknown command 'get'; the commands are add, ls and rm (see --help)"],
    [["ls", "--verbose"], "unknown option '--verbose' (see --help)"],
    [["add", "k", "-v"], "unknown option '-v' (see --help)"],
    [["ls", "--server"], "--server needs a value: write --server URL or --server=URL"],
  ])("refuses %j", (argv, message) => {
    expect(() => parseSecretCommand(argv, {})).toThrow(ConfigError);
    expect(() => parseSecretCommand(argv, {})).toThrow(message);
  });

  it("documents every option, its variable and the exit codes", () => {
    const help = secretCliHelp();
    for (const text of [
      "--server URL",
      "APOLO_SECRETS_SERVER",
      "APOLO_SECRETS_TOKEN",
      "APOLO_SECRETS_CA_FILE",
    ])
      expect(help).toContain(text);
    expect(help).toContain("Exit codes: 0 done; 1 refused by the server");
  });
});
