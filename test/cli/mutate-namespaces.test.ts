// The offline command's namespace hint and warnings, run as operators run it (bin/apolo-secrets-webhook
// mutate, on files): a pod without a namespace and stores only in another namespace gets the
// refusal and a hint naming where the stores were looked up and where they are (namespace names
// only); the webhook's warnings are printed on stderr as kubectl prints them; the help says which
// namespace's stores are used and lists the trusted submitter options.

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "../../bin/apolo-secrets-webhook");
const VALUE = "value-that-must-not-show";
let dir: string;
let counter = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "apolo-mutate-ns-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function mutate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(BIN, ["mutate", ...args], { encoding: "utf8" });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function write(content: string): string {
  const file = join(dir, `${counter++}.yaml`);
  writeFileSync(file, content);
  return file;
}

function pod(options: {
  namespace?: string;
  env?: Record<string, string>;
  files?: string[];
  labelPrefix?: string;
}): string {
  const prefix = options.labelPrefix ?? "platform.apolo.us/";
  return write(
    stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "train",
        ...(options.namespace ? { namespace: options.namespace } : {}),
        labels: { [`${prefix}user`]: "alice" },
        ...(options.files
          ? { annotations: { "platform.apolo.us/secret-volumes": JSON.stringify(options.files) } }
          : {}),
      },
      spec: {
        containers: [
          {
            name: "main",
            image: "busybox",
            env: Object.entries(options.env ?? { DB: "secret:db_password" }).map(([name, value]) => ({
              name,
              value,
            })),
          },
        ],
      },
    }),
  );
}

/** Store Secrets: [namespace or undefined, name, keys]. */
function stores(list: Array<[string | undefined, string, string[]]>): string {
  return write(
    list
      .map(([namespace, name, keys]) =>
        stringify({
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name, ...(namespace ? { namespace } : {}) },
          data: Object.fromEntries(keys.map((k) => [k, Buffer.from(VALUE).toString("base64")])),
        }),
      )
      .join("---\n"),
  );
}

describe("mutate: which namespace's stores", () => {
  it("a pod without a namespace, stores only in another: the refusal, then a hint naming both namespaces", async () => {
    const answer = await mutate([
      "--pod",
      pod({}),
      "--secrets",
      stores([["ml-jobs", "user--alice--secrets", ["db_password"]]]),
    ]);
    expect(answer.code).toBe(1);
    expect(answer.stdout).toBe("");
    expect(answer.stderr).toBe(
      "refused (422): Missing secrets: 'db_password'\n" +
        "hint: stores were looked up in namespace 'default' (the pod has no metadata.namespace and --namespace is not given); " +
        "the secrets file has 'user--alice--secrets' in namespace 'ml-jobs': give the job's namespace with --namespace or the pod's metadata.namespace\n",
    );
    expect(answer.stderr).not.toContain(VALUE);
  });

  it("the same pod with --namespace of the stores is allowed, without a hint", async () => {
    const answer = await mutate([
      "--pod",
      pod({}),
      "--secrets",
      stores([["ml-jobs", "user--alice--secrets", ["db_password"]]]),
      "--namespace",
      "ml-jobs",
    ]);
    expect(answer.code).toBe(0);
    expect(answer.stderr).toBe("");
    expect(JSON.parse(answer.stdout).spec.containers[0].env[0].valueFrom.secretKeyRef).toEqual({
      name: "user--alice--secrets",
      key: "db_password",
    });
  });

  it("names the source of the namespace (the pod's, --namespace) and every other namespace, bounded", async () => {
    const secrets = stores([
      ["team-a", "user--alice--secrets", ["other"]],
      ...["ns-1", "ns-2", "ns-3", "ns-4", "ns-5", "ns-6", "ns-7"].map(
        (ns) => [ns, "user--alice--secrets", ["db_password"]] as [string, string, string[]],
      ),
    ]);
    const fromPod = await mutate(["--pod", pod({ namespace: "team-a" }), "--secrets", secrets]);
    expect(fromPod.code).toBe(1);
    expect(fromPod.stderr).toContain(
      "hint: stores were looked up in namespace 'team-a' (the pod's metadata.namespace); the secrets file has 'user--alice--secrets' in namespace 'ns-1', 'ns-2', 'ns-3', 'ns-4', 'ns-5', and 2 more:",
    );
    const fromFlag = await mutate(["--pod", pod({}), "--secrets", secrets, "--namespace", "elsewhere"]);
    expect(fromFlag.stderr).toContain("looked up in namespace 'elsewhere' (--namespace);");
  });

  it("no hint when only another owner's store is elsewhere, nor for other refusals", async () => {
    const foreign = await mutate([
      "--pod",
      pod({}),
      "--secrets",
      stores([["ml-jobs", "user--bob--secrets", ["db_password"]]]),
    ]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toBe("refused (422): Missing secrets: 'db_password'\n");

    const crossOwner = await mutate([
      "--pod",
      pod({ env: { DB: "secret:/bob/db_password" } }),
      "--secrets",
      stores([["ml-jobs", "user--alice--secrets", ["db_password"]]]),
    ]);
    expect(crossOwner.code).toBe(1);
    expect(crossOwner.stderr).not.toContain("hint:");
  });

  it("Secrets without a namespace count as in the pod's: no hint", async () => {
    const answer = await mutate([
      "--pod",
      pod({ namespace: "team-a" }),
      "--secrets",
      stores([[undefined, "user--alice--secrets", ["db_password"]]]),
    ]);
    expect(answer.code).toBe(0);
  });
});

describe("mutate: the webhook's warnings on stderr", () => {
  it("prints the legacy-label and subPath warnings as kubectl does, stdout still the mutated pod", async () => {
    const answer = await mutate([
      "--pod",
      pod({ labelPrefix: "platform.neuromation.io/", files: ["secret:db_password:/etc/db"] }),
      "--secrets",
      stores([[undefined, "user--alice--secrets", ["db_password"]]]),
    ]);
    expect(answer.code).toBe(0);
    expect(answer.stderr).toBe(
      "Warning: the owner label 'platform.neuromation.io/user' uses the legacy prefix platform.neuromation.io/; use platform.apolo.us/ instead\n" +
        "Warning: 1 secret file(s) mounted with subPath: a running container does not see later changes to the secret; restart the job to pick them up\n",
    );
    expect(JSON.parse(answer.stdout).spec.containers[0].volumeMounts[0].subPath).toBe("db_password");
  });

  it("prints the did-you-mean warning before the refusal, never a value", async () => {
    const answer = await mutate([
      "--pod",
      pod({ env: { DB: "secret:db_pasword" } }),
      "--secrets",
      stores([[undefined, "user--alice--secrets", ["db_password"]]]),
    ]);
    expect(answer.code).toBe(1);
    const [warning, refusal] = answer.stderr.split("\n");
    expect(warning).toMatch(/^Warning: .*did you mean 'db_password'\?/);
    expect(refusal).toBe("refused (422): Missing secrets: 'db_pasword'");
    expect(answer.stderr).not.toContain(VALUE);
  });
});

describe("mutate --help", () => {
  it("lists --trusted-user and --trusted-group in the synopsis and says which namespace's stores are used", async () => {
    const { stdout } = await run(BIN, ["mutate", "--help"], { encoding: "utf8" });
    const usage = stdout.split("\n")[0] ?? "";
    expect(usage).toContain("[--trusted-user NAME]...");
    expect(usage).toContain("[--trusted-group G]...");
    expect(stdout).toContain("Only the store Secrets in the pod's namespace are used");
    expect(stdout).toContain("'Warning: ...'");
  });
});

describe("mutate: the hint is bounded", () => {
  it("clips a long namespace name from the secrets file", async () => {
    const long = `ns-${"a".repeat(5000)}`;
    const answer = await mutate([
      "--pod",
      pod({}),
      "--secrets",
      stores([[long, "user--alice--secrets", ["db_password"]]]),
    ]);
    expect(answer.code).toBe(1);
    const hint = answer.stderr.split("\n")[1] ?? "";
    expect(hint.startsWith("hint: ")).toBe(true);
    expect(hint.length).toBeLessThan(600);
    expect(hint).toContain(`'${long.slice(0, 100)}`);
  });
});
