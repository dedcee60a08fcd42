// The offline command, run as operators run it: bin/apolo-secrets-webhook mutate, on files.

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type AdmissionCase, CASE_NAMESPACE, cases, type JsonObject } from "../cases/cases.js";
import { caseMutateArgs } from "../support/mutate-args.js";
import { type Answer, expectCaseAnswer } from "../support/replay.js";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "../../bin/apolo-secrets-webhook");
const PLAINTEXT = "very-secret-value";
let dir: string;
let counter = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "apolo-cli-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function mutate(
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const child = run(BIN, ["mutate", ...args], { encoding: "utf8" });
    if (stdin !== undefined) {
      child.child.stdin?.end(stdin);
    }
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function secretsYaml(stores: Record<string, string[]>): string {
  const docs = Object.entries(stores).map(([name, keys]) =>
    stringify({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: CASE_NAMESPACE },
      type: "Opaque",
      data: Object.fromEntries(keys.map((k) => [k, Buffer.from(PLAINTEXT).toString("base64")])),
    }),
  );
  return docs.length > 0 ? docs.join("---\n") : "";
}

function write(name: string, content: string): string {
  const file = join(dir, `${counter++}-${name}`);
  writeFileSync(file, content);
  return file;
}

async function answerFor(c: AdmissionCase, pod: JsonObject): Promise<Answer> {
  const args = [
    ...caseMutateArgs(c, write("pod.yaml", stringify(pod)), write("secrets.yaml", secretsYaml(c.stores))),
    "--patch",
  ];
  const result = await mutate(args);
  expect(result.stdout + result.stderr).not.toContain(PLAINTEXT);
  expect(result.stdout + result.stderr).not.toContain(Buffer.from(PLAINTEXT).toString("base64"));
  if (result.code === 0) return { allowed: true, patch: JSON.parse(result.stdout) };
  expect(result.code, result.stderr).toBe(1);
  // The webhook's warnings come first, one `Warning: ` line each (test/cli/mutate-namespaces.test.ts).
  const refusal = result.stderr
    .split("\n")
    .filter((line) => !line.startsWith("Warning: "))
    .join("\n");
  const match = /^refused \((\d+)\): (.*)\n$/s.exec(refusal);
  expect(match, result.stderr).not.toBeNull();
  return { allowed: false, code: Number(match?.[1]), message: match?.[2], patch: [] };
}

describe("apolo-secrets-webhook mutate", () => {
  for (const c of cases) {
    it(`replays: ${c.name}`, async () => {
      await expectCaseAnswer(c, await answerFor(c, c.pod), (pod) => answerFor(c, pod));
    });
  }

  it("prints the mutated pod as JSON, reading the pod from stdin and assuming the owner submits", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", labels: { "platform.apolo.us/user": "alice" } },
      spec: { containers: [{ name: "c", env: [{ name: "A", value: "secret:k" }] }] },
    };
    const secrets = write(
      "list.json",
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [{ kind: "Secret", metadata: { name: "user--alice--secrets" }, data: { k: "eA==" } }],
      }),
    );
    const result = await mutate(["--pod", "-", "--secrets", secrets], JSON.stringify(pod));
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.metadata.name).toBe("p");
    expect(out.spec.containers[0].env[0]).toEqual({
      name: "A",
      valueFrom: { secretKeyRef: { name: "user--alice--secrets", key: "k" } },
    });
  });

  it("exits 2 with a clear message on bad input", async () => {
    const secrets = write("s.yaml", "");
    const cases: Array<[string[], RegExp]> = [
      [
        ["--pod", join(dir, "absent.yaml"), "--secrets", secrets],
        /cannot read the pod file '.*absent\.yaml' \(ENOENT\)/,
      ],
      [
        ["--pod", write("bad.yaml", "a: [unclosed"), "--secrets", secrets],
        /the pod file is not valid YAML or JSON/,
      ],
      [
        ["--pod", write("cm.yaml", "kind: ConfigMap\nmetadata: {name: x}\n"), "--secrets", secrets],
        /holds a ConfigMap, not a Pod/,
      ],
      [
        ["--pod", write("np.yaml", "kind: Pod\nmetadata: {name: x}\nspec: 3\n"), "--secrets", secrets],
        /the pod is malformed: pod\.spec must be an object/,
      ],
      [
        [
          "--pod",
          write("ok.yaml", "kind: Pod\nspec: {containers: []}\n"),
          "--secrets",
          write("s2.yaml", "kind: ConfigMap\n"),
        ],
        /object 0 is not a Secret/,
      ],
      [["--secrets", secrets], /--pod FILE is required/],
      [
        ["--pod", "x", "--secrets", secrets, "--scope", "team"],
        /--scope \(APOLO_SECRETS_WEBHOOK_SCOPE\) must be 'user' or 'project', got 'team'/,
      ],
      [["--pod", "x", "--secrets", secrets, "--bogus"], /unknown option '--bogus' \(see --help\)/],
    ];
    for (const [args, message] of cases) {
      const result = await mutate(args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });

  it("explains a workload's verdict on its pod template: allowed unchanged, or the refusal", async () => {
    const secrets = write(
      "alice.yaml",
      secretsYaml({ "user--alice--secrets": ["k"] }).replace(`namespace: ${CASE_NAMESPACE}`, "namespace: ml"),
    );
    const cronJob = (owner: string, value: string) =>
      stringify({
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: { name: "nightly", namespace: "ml" },
        spec: {
          schedule: "0 3 * * *",
          jobTemplate: {
            spec: {
              template: {
                metadata: { labels: { "platform.apolo.us/user": owner } },
                spec: { containers: [{ name: "main", env: [{ name: "A", value }] }] },
              },
            },
          },
        },
      });
    const ok = await mutate([
      "--pod",
      write("cron.yaml", cronJob("alice", "secret:k")),
      "--secrets",
      secrets,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain("allowed: the CronJob's pod template passes every check; it is not changed");
    const printed = JSON.parse(ok.stdout);
    expect(printed.spec.jobTemplate.spec.template.spec.containers[0].env[0]).toEqual({
      name: "A",
      value: "secret:k",
    });

    const missing = await mutate([
      "--pod",
      write("cron2.yaml", cronJob("alice", "secret:nope")),
      "--secrets",
      secrets,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("refused (422): Missing secrets: 'nope'\n");

    const forged = await mutate([
      "--pod",
      write("cron3.yaml", cronJob("alice", "secret:k")),
      "--secrets",
      secrets,
      "--user",
      "bob",
    ]);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain(
      "'bob' may not create a CronJob whose pod template is labelled for owner 'alice'",
    );

    const noTemplate = await mutate([
      "--pod",
      write("job.yaml", cronJob("alice", "secret:k").replace("kind: CronJob", "kind: Job")),
      "--secrets",
      secrets,
    ]);
    // A Job's template is spec.template: this CronJob-shaped body has none.
    expect(noTemplate.code).toBe(2);
    expect(noTemplate.stderr).toContain(
      "the workload is malformed: workload.spec.template must be an object",
    );
  });

  it("documents both commands in --help", async () => {
    const top = await run(BIN, ["--help"]);
    expect(top.stdout).toMatch(/serve .*\n.*api .*\n.*mutate/);
    const help = await run(BIN, ["mutate", "--help"]);
    expect(help.stdout).toContain("--secrets FILE");
    const serve = await run(BIN, ["serve", "--help"]);
    expect(serve.stdout).toContain("APOLO_SECRETS_WEBHOOK_TRUSTED_USERS");
  });
});
