// Runs the helm built by `make cluster-tools` on the chart; parses what it renders.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { toolsCacheDir } from "../cluster/control-plane.js";

export const CHART = join(import.meta.dirname, "../../charts/apolo-secrets-webhook");
export const KUBE_VERSION = "1.36.3";

export function helmBin(): string {
  const file = join(toolsCacheDir(), "versions.env");
  const line = existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .find((l) => l.startsWith("HELM_BIN="))
    : undefined;
  const bin = line?.slice("HELM_BIN=".length);
  if (!bin || !existsSync(bin)) throw new Error(`helm is missing (${file}); run 'make cluster-tools'`);
  return bin;
}

export function helm(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { ok: boolean; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(helmBin(), args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env,
    });
    return { ok: true, stdout, stderr: "" };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [k: string]: unknown;
};

/** `helm template` with --set style values; throws with helm's message on failure. */
export function render(values: string[] = [], namespace = "apolo-system", release = "asw"): Manifest[] {
  // "json:key=[...]" is passed with --set-json (an empty list cannot be written with --set).
  const args = values.flatMap((v) => (v.startsWith("json:") ? ["--set-json", v.slice(5)] : ["--set", v]));
  const result = helm([
    "template",
    release,
    CHART,
    "--namespace",
    namespace,
    "--kube-version",
    KUBE_VERSION,
    ...args,
  ]);
  if (!result.ok) throw new Error(result.stderr);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

export function find(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (!found)
    throw new Error(
      `no ${kind}${name ? ` ${name}` : ""} rendered: ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(", ")}`,
    );
  return found;
}
