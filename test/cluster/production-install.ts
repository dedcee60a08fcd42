// The image recipe without an image: the same steps the Dockerfile performs (production
// dependencies only, into a clean directory, with the built dist/), so the recipe cannot rot
// silently where no container engine runs.

import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "../..");

/** Returns the directory holding package.json, node_modules (production only) and dist/. */
export function productionInstall(): string {
  const dir = mkdtempSync(join(tmpdir(), "apolo-image-"));
  for (const file of ["package.json", "package-lock.json"]) cpSync(join(ROOT, file), join(dir, file));
  execFileSync("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  cpSync(join(ROOT, "dist"), join(dir, "dist"), { recursive: true });
  return dir;
}
