// The offline command's arguments for a shared case, as the CLI suite and the before/after
// snapshot run it: the case's scope, the test cluster name, its submitter and the trusted platform.

import { type AdmissionCase, CASE_CLUSTER, PLATFORM_GROUP, PLATFORM_USER } from "../cases/cases.js";
import { submitterOf } from "./replay.js";

export function caseMutateArgs(c: AdmissionCase, podFile: string, secretsFile: string): string[] {
  const submitter = submitterOf(c);
  return [
    "--pod",
    podFile,
    "--secrets",
    secretsFile,
    "--scope",
    c.scope ?? "user",
    "--cluster-name",
    CASE_CLUSTER,
    "--user",
    submitter.username,
    "--trusted-user",
    PLATFORM_USER,
    "--trusted-group",
    PLATFORM_GROUP,
    ...submitter.groups.flatMap((g) => ["--group", g]),
  ];
}
