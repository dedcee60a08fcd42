// The option table is typed: a parser that reads a flag the table does not have does not compile,
// and every flag a command accepts appears in its help with its variable and default.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { apiHelp } from "./api.js";
import { parseArgv } from "./argv.js";
import { ConfigError, duration } from "./checks.js";
import { MUTATE_OPTIONS, mutateHelp } from "./mutate.js";
import { API_OPTIONS, SERVE_OPTIONS } from "./options.js";
import { optionsOf } from "./reader.js";
import { SECRET_CLI_OPTIONS } from "./secret-cli.js";
import { serveHelp } from "./serve.js";

describe("the option table", () => {
  it("gives flag names as a union: a misspelt flag is a compile error", () => {
    const options = optionsOf(SERVE_OPTIONS, parseArgv(["--port=1"], SERVE_OPTIONS), {});
    expect(options.text("port")).toBe("1");
    // @ts-expect-error "tls-cert-fil" is not a flag of serve: tsc (make lint) fails if this compiles.
    expect(() => options.text("tls-cert-fil")).toThrow("no option --tls-cert-fil in this command's table");
    const api = optionsOf(API_OPTIONS, parseArgv([], API_OPTIONS), {});
    // @ts-expect-error "trusted-users" belongs to serve, not api.
    expect(() => api.text("trusted-users")).toThrow(/no option --trusted-users/);
  });

  it.each([
    ["serve", SERVE_OPTIONS],
    ["api", API_OPTIONS],
    ["mutate", MUTATE_OPTIONS],
    ["apolo-secret", SECRET_CLI_OPTIONS],
  ] as const)("%s: every option reads the flag, else its variable, else its default", (_name, table) => {
    for (const spec of table) {
      const env = "env" in spec ? { [spec.env]: "from-env" } : {};
      const read = (args: string[], from: Record<string, string>) =>
        optionsOf(table, parseArgv(args, table), from).text(spec.flag as never);
      expect(read([`--${spec.flag}=from-flag`], env), spec.flag).toBe("from-flag");
      expect(read([], env), spec.flag).toBe("env" in spec ? "from-env" : spec.default);
      expect(read([], {}), spec.flag).toBe(spec.default);
    }
  });

  it("has no flag or variable twice in a command", () => {
    for (const table of [SERVE_OPTIONS, API_OPTIONS, MUTATE_OPTIONS, SECRET_CLI_OPTIONS]) {
      const flags = table.map((spec) => spec.flag);
      const variables = table.flatMap((spec) => ("env" in spec ? [spec.env] : []));
      expect(new Set(flags).size).toBe(flags.length);
      expect(new Set(variables).size).toBe(variables.length);
    }
  });

  it.each([
    ["serve", serveHelp(), SERVE_OPTIONS],
    ["api", apiHelp(), API_OPTIONS],
    ["mutate", mutateHelp(), MUTATE_OPTIONS],
  ] as const)("%s --help lists every flag with its variable and default", (_name, help, table) => {
    for (const spec of table) {
      expect(help).toContain(`--${spec.flag}`);
      if ("env" in spec) expect(help).toContain(`env ${spec.env}`);
      if (spec.default !== "") expect(help).toContain(`default ${spec.default}`);
    }
  });

  it("renders both servers' help the same way (one renderer, one column)", () => {
    const column = (help: string) =>
      new Set(
        help.split("\n").flatMap((line) => (line.startsWith("  --") ? [line.search(/ {2}[a-zA-Z(]/u)] : [])),
      );
    expect(column(serveHelp()).size).toBe(1);
    expect(column(apiHelp()).size).toBe(1);
    expect(serveHelp()).toContain("--manage-certificates[=true|false]");
  });
});

describe("the README's Configuration section", () => {
  const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Configuration\n"), readme.indexOf("**Least privilege.**"));

  it.each([
    ["serve", SERVE_OPTIONS],
    ["api", API_OPTIONS],
    ["mutate", MUTATE_OPTIONS],
    ["apolo-secret", SECRET_CLI_OPTIONS],
  ] as const)("names every flag and variable of %s", (_name, table) => {
    for (const spec of table) {
      expect(section, spec.flag).toContain(`\`--${spec.flag}\``);
      if ("env" in spec) {
        const short = spec.env.replace("APOLO_SECRETS_WEBHOOK_", "…_");
        expect(section.includes(`\`${spec.env}\``) || section.includes(`\`${short}\``), spec.env).toBe(true);
      }
    }
  });

  it("gives the default of every serve option", () => {
    for (const spec of SERVE_OPTIONS) {
      const row = section
        .split("\n")
        .find((line) => line.startsWith(`| \`--${spec.flag}\``) || line.includes(`, \`--${spec.flag}\``));
      expect(row, spec.flag).toBeDefined();
      if (spec.default !== "") expect(row, spec.flag).toContain(spec.default);
    }
  });
});

describe("parseArgv", () => {
  const specs = [
    { flag: "name", default: "", help: "" },
    { flag: "on", default: "false", help: "", kind: "boolean" },
    { flag: "each", default: "", help: "", kind: "repeated" },
  ] as const;

  it("reads --flag VALUE, --flag=VALUE, a bare boolean, repeated flags and positionals after --", () => {
    const parsed = parseArgv(["--name", "a", "--on", "--each=1", "--each", "2", "--", "--name"], specs, {
      positionals: true,
    });
    expect(Object.fromEntries(parsed.values)).toEqual({ name: ["a"], on: ["true"], each: ["1", "2"] });
    expect(parsed.positionals).toEqual(["--name"]);
    expect(parseArgv(["--name=x=y", "--on=false"], specs).values.get("name")).toEqual(["x=y"]);
    expect(parseArgv(["--name=", "--on=false"], specs).values.get("on")).toEqual(["false"]);
  });

  it("takes a value that starts with a single dash, and refuses a flag where a value should be", () => {
    expect(parseArgv(["--name", "-"], specs).values.get("name")).toEqual(["-"]);
    expect(() => parseArgv(["--name", "--on"], specs)).toThrow(
      "--name needs a value: write --name VALUE or --name=VALUE",
    );
    expect(() => parseArgv(["--name"], specs)).toThrow(ConfigError);
  });

  it("refuses unknown options, including inherited property names", () => {
    for (const flag of ["--nope", "--__proto__", "--constructor=1", "-x"])
      expect(() => parseArgv([flag], specs)).toThrow(`unknown option '${flag.split("=")[0]}' (see --help)`);
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

  it.each(["1.5h", "10", "ms", "10 s", "-5s", "5w", "5constructor", "", `${"9".repeat(100_000)}x`])(
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
