// Prints the offline command's answers for every shared case (exit code, stdout, stderr), as one
// JSON document: run before and after a refactoring and compare byte for byte.
//   tsx test/cli/mutate-snapshot.ts > before.json

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { CASE_NAMESPACE, cases } from "../cases/cases.js";
import { caseMutateArgs } from "../support/mutate-args.js";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "../../bin/apolo-secrets-webhook");
const dir = mkdtempSync(join(tmpdir(), "apolo-snapshot-"));

function secretsYaml(stores: Record<string, string[]>): string {
  return Object.entries(stores)
    .map(([name, keys]) =>
      stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace: CASE_NAMESPACE },
        data: Object.fromEntries(keys.map((k) => [k, "eA=="])),
      }),
    )
    .join("---\n");
}

const answers: Record<string, unknown> = {};
try {
  for (const [index, c] of cases.entries()) {
    const pod = join(dir, `${index}-pod.yaml`);
    const secrets = join(dir, `${index}-secrets.yaml`);
    writeFileSync(pod, stringify(c.pod));
    writeFileSync(secrets, secretsYaml(c.stores));
    for (const mode of [["--patch"], []]) {
      const args = ["mutate", ...caseMutateArgs(c, pod, secrets), ...mode];
      const outcome = await run(BIN, args, { encoding: "utf8" }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({
          code: e.code,
          stdout: e.stdout,
          stderr: e.stderr.split(dir).join("<dir>"),
        }),
      );
      answers[`${c.name} ${mode.join(" ") || "(pod)"}`] = outcome;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(answers, null, 1)}\n`);
