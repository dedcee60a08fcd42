// The platform's own `apolo` CLI (apolo-cli from PyPI, installed by `make apolo-cli` into
// .tools) run as a platform user: a home and config folder of its own, and the test CA trusted.
// The CLI trusts only certifi's bundle (ssl.create_default_context(cadata=certifi.contents()) in
// apolo_sdk/_config_factory.py). The virtualenv is cached and shared between runs while the CA is
// made per run, so the CA is not written into it: each run puts a copy of the venv's certifi,
// with the CA appended to its cacert.pem, first on PYTHONPATH. Nothing outside the run's folder
// changes, and the system's bundle never.

import { execFile, execFileSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const ROOT = join(import.meta.dirname, "../..");
const REQUIREMENTS = join(import.meta.dirname, "apolo-cli-requirements.txt");

/** The pinned version, from the one requirements line the installer also reads. */
export function apoloCliVersion(): string {
  const pin = readFileSync(REQUIREMENTS, "utf8")
    .split("\n")
    .find((line) => line.startsWith("apolo-cli=="));
  if (!pin) throw new Error(`${REQUIREMENTS} has no apolo-cli==VERSION line`);
  return pin.slice("apolo-cli==".length).trim();
}

/** The installed `apolo` command; throws, saying how to install it, when it is missing. */
export function apoloCommand(): string {
  const command = join(ROOT, ".tools", `apolo-cli-${apoloCliVersion()}`, "bin", "apolo");
  if (!existsSync(command)) {
    throw new Error(
      `the apolo CLI is not installed (${command} is missing): run 'make apolo-cli' (make test-e2e does it)`,
    );
  }
  return command;
}

/**
 * The env of one platform user's apolo: HOME and APOLO_CONFIG in `dir/apolo-USER`, the
 * CA-augmented certifi first on PYTHONPATH, the PyPI version check off (tests dial loopback only).
 */
export function apoloUserEnv(dir: string, user: string, caFile: string): NodeJS.ProcessEnv {
  const home = join(dir, `apolo-${user}`);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    APOLO_CONFIG: join(home, ".apolo"),
    PYTHONPATH: trustedCertifi(dir, caFile),
    NEURO_CLI_DISABLE_PYPI_VERSION_CHECK: "1",
    LC_ALL: "C.UTF-8",
    LANG: "C.UTF-8",
    // The CLI's console wraps at the terminal's width, 80 when there is none: keep lines whole.
    COLUMNS: "200",
  };
}

/** A folder holding a copy of the venv's certifi package whose bundle also trusts `caFile`. */
export function trustedCertifi(dir: string, caFile: string): string {
  const overlay = join(dir, "apolo-certifi");
  const bundle = join(overlay, "certifi", "cacert.pem");
  if (existsSync(bundle)) return overlay;
  const python = join(dirname(apoloCommand()), "python");
  const original = execFileSync(
    python,
    ["-c", "import certifi, os; print(os.path.dirname(certifi.__file__))"],
    {
      encoding: "utf8",
    },
  ).trim();
  cpSync(original, join(overlay, "certifi"), { recursive: true });
  appendFileSync(bundle, `\n# apolo-secrets-webhook test CA\n${readFileSync(caFile, "utf8")}`);
  return overlay;
}

/**
 * Options every call passes: no usage statistics (the CLI would post them to an outside host;
 * the flag has no environment variable) and no colour codes in the output.
 */
export const APOLO_GLOBAL_FLAGS = ["--skip-stats", "--color=no"];

export interface ApoloResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `apolo ARGS` with `env`, asynchronously (the stubs it calls may live in this process). */
export function runApolo(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 60_000): Promise<ApoloResult> {
  const command = apoloCommand();
  return new Promise((resolve) => {
    execFile(
      command,
      [...APOLO_GLOBAL_FLAGS, ...args],
      { env, cwd: env.HOME, timeout: timeoutMs, encoding: "utf8" },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
      },
    );
  });
}
