import { describe, expect, it } from "vitest";
import { parseCommand } from "./command.js";
import { policyOf } from "./policy.js";
import type { Env } from "./reader.js";

const FILES = ["--pod", "pod.yaml", "--secrets", "stores.yaml"];

function mutate(args: string[], env: Env = {}) {
  const command = parseCommand(["mutate", ...args], env);
  if (command.command !== "mutate") throw new Error("not mutate");
  return command.config;
}

describe("parseCommand mutate", () => {
  it("needs only the two files, and defaults to the webhook's defaults", () => {
    expect(mutate(FILES)).toEqual({
      podFile: "pod.yaml",
      secretsFile: "stores.yaml",
      namespace: undefined,
      user: undefined,
      groups: [],
      scope: "user",
      clusterName: undefined,
      trustedUsers: [],
      trustedGroups: [],
      trustedControllers: [
        "system:serviceaccount:kube-system:job-controller",
        "system:serviceaccount:kube-system:cronjob-controller",
        "system:serviceaccount:kube-system:replicaset-controller",
        "system:serviceaccount:kube-system:statefulset-controller",
        "system:serviceaccount:kube-system:daemon-set-controller",
        "system:serviceaccount:kube-system:deployment-controller",
      ],
      identity: { usernamePrefixes: [""] },
      printPatch: false,
    });
  });

  it("reads the submitter, repeated groups and trusted submitters, and --patch", () => {
    const config = mutate([
      ...FILES,
      "--namespace=jobs",
      "--user",
      "alice",
      "--group=ml",
      "--group",
      "ops",
      "--trusted-user=system:serviceaccount:platform:api",
      "--trusted-user",
      "a,b",
      "--trusted-group=platform",
      "--patch",
    ]);
    expect(config).toMatchObject({
      namespace: "jobs",
      user: "alice",
      groups: ["ml", "ops"],
      // A repeated flag's value is one name, commas and all: the variable is the list form.
      trustedUsers: ["system:serviceaccount:platform:api", "a,b"],
      trustedGroups: ["platform"],
      printPatch: true,
    });
    expect(mutate([...FILES, "--user="]).user).toBe("");
    expect(mutate(["--pod=-", "--secrets=s.yaml"]).podFile).toBe("-");
  });

  it("reads the policy from the webhook's variables, and flags win", () => {
    const env = {
      APOLO_SECRETS_WEBHOOK_SCOPE: "project",
      APOLO_SECRETS_WEBHOOK_CLUSTER_NAME: "prod",
      APOLO_SECRETS_WEBHOOK_TRUSTED_USERS: "platform, ops",
      APOLO_SECRETS_WEBHOOK_TRUSTED_GROUPS: "admins",
    };
    expect(mutate(FILES, env)).toMatchObject({
      scope: "project",
      clusterName: "prod",
      trustedUsers: ["platform", "ops"],
      trustedGroups: ["admins"],
    });
    expect(
      mutate([...FILES, "--scope=user", "--cluster-name=dev", "--trusted-user=x", "--trusted-group=y"], env),
    ).toMatchObject({ scope: "user", clusterName: "dev", trustedUsers: ["x"], trustedGroups: ["y"] });
  });

  it("builds the same Policy the webhook builds from the same settings", () => {
    const policy = policyOf(
      mutate([
        ...FILES,
        "--trusted-user=p",
        "--trusted-group=g",
        "--cluster-name=c",
        "--username-prefix=sa:,",
      ]),
    );
    expect(policy).toEqual({
      scope: "user",
      clusterName: "c",
      trustedUsers: new Set(["p"]),
      trustedGroups: new Set(["g"]),
      trustedControllers: new Set(mutate(FILES).trustedControllers),
      identity: { usernamePrefixes: ["sa:", ""] },
    });
  });

  it.each([
    [["--secrets", "s.yaml"], "--pod FILE is required (a Pod in YAML or JSON; - for stdin)"],
    [["--pod", "p.yaml"], "--secrets FILE is required (the store Secrets, YAML or JSON)"],
    [
      [...FILES, "--scope", "team"],
      "--scope (APOLO_SECRETS_WEBHOOK_SCOPE) must be 'user' or 'project', got 'team'",
    ],
    [
      [...FILES, "--cluster-name", "a b"],
      "--cluster-name (APOLO_SECRETS_WEBHOOK_CLUSTER_NAME) 'a b' is not a valid cluster name",
    ],
    [[...FILES, "--patch=maybe"], "--patch must be true or false, got 'maybe'"],
    [[...FILES, "--bogus"], "unknown option '--bogus' (see --help)"],
    [[...FILES, "--trusted-users=x"], "unknown option '--trusted-users' (see --help)"],
    [[...FILES, "--user"], "--user needs a value: write --user NAME or --user=NAME"],
    [
      [...FILES, "extra"],
      "unexpected argument 'extra': options are written --name VALUE or --name=VALUE (see --help)",
    ],
  ])("refuses %j", (args, message) => {
    expect(() => mutate(args)).toThrow(message);
  });

  it("refuses a bad scope from the environment, naming the variable", () => {
    expect(() => mutate(FILES, { APOLO_SECRETS_WEBHOOK_SCOPE: "org" })).toThrow(
      "--scope (APOLO_SECRETS_WEBHOOK_SCOPE) must be 'user' or 'project', got 'org'",
    );
  });
});
