import { describe, expect, it } from "vitest";
import {
  ADVICE_LIMITS,
  auditAnnotations,
  boundWarnings,
  closeNames,
  legacyOwnerLabels,
  suggestionWarnings,
  withinDistance,
} from "./advice.js";

/** The textbook full-matrix Levenshtein distance, to check the banded one against. */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i] as number[];
      const up = rows[i - 1] as number[];
      row[j] = Math.min(
        (up[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
        (up[j] as number) + 1,
        (row[j - 1] as number) + 1,
      );
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}

describe("withinDistance", () => {
  it("agrees with the full Levenshtein distance on every pair of short words", () => {
    const words = [
      "",
      "a",
      "ab",
      "ba",
      "abc",
      "acb",
      "abcd",
      "xbcd",
      "db_password",
      "db_pasword",
      "dbpassword_",
      "x",
    ];
    for (const a of words) {
      for (const b of words) {
        for (const max of [0, 1, 2]) {
          expect(withinDistance(a, b, max), `${a} ~ ${b} within ${max}`).toBe(distance(a, b) <= max);
        }
      }
    }
  });

  it("answers for two 253-character names at once (a band, not the full matrix)", () => {
    const a = "k".repeat(253);
    expect(withinDistance(a, `${"k".repeat(251)}xy`, 2)).toBe(true);
    expect(withinDistance(a, `x${"k".repeat(250)}yz`, 2)).toBe(false);
  });
});

describe("close names", () => {
  it("offers names within two edits, sorted, at most three", () => {
    const present = [
      "db_password",
      "db_passwords",
      "db_pass",
      "api_key",
      "db_passwd",
      "xb_password",
      "db_password2",
    ];
    expect(closeNames("db_pasword", present)).toEqual(["db_password", "db_password2", "db_passwords"]);
    expect(closeNames("nothing_like_it", present)).toEqual([]);
  });

  it("does not compare names longer than a Secret key or more names than the bound", () => {
    expect(closeNames("k".repeat(254), ["k".repeat(254)])).toEqual([]);
    const many = Array.from({ length: ADVICE_LIMITS.namesCompared }, (_, i) => `zz${i}`);
    expect(closeNames("key", [...many, "kez"])).toEqual([]);
    expect(closeNames("key", ["kez", ...many])).toEqual(["kez"]);
  });

  it("words one warning per missing key that has close names", () => {
    const present = new Set(["db_password", "aws_key"]);
    expect(suggestionWarnings(["aws_kye", "db_pasword", "zzz"], present)).toEqual([
      "secret 'aws_kye' is missing: did you mean 'aws_key'?",
      "secret 'db_pasword' is missing: did you mean 'db_password'?",
    ]);
  });
});

describe("warnings and annotations stay bounded", () => {
  it("clips each warning under 256 characters and the list under 4096", () => {
    const bounded = boundWarnings(Array.from({ length: 50 }, () => "w".repeat(10_000)));
    expect(bounded.length).toBeGreaterThan(0);
    expect(bounded.length).toBeLessThanOrEqual(ADVICE_LIMITS.warnings);
    for (const warning of bounded) expect(warning.length).toBeLessThan(256);
    expect(bounded.join("").length).toBeLessThan(4096);
  });

  it("finds owner labels under the legacy prefix only", () => {
    expect(
      legacyOwnerLabels({ "platform.neuromation.io/user": "alice", "platform.apolo.us/user": "alice" }),
    ).toEqual(["platform.neuromation.io/user"]);
    expect(legacyOwnerLabels({ "platform.apolo.us/user": "alice" })).toEqual([]);
  });

  it("uses keys without a '/', so '<webhook name>/<key>' is a qualified name", () => {
    const annotations = auditAnnotations({
      owner: "o".repeat(5000),
      keys: ["a", "b"],
      decision: "allowed",
      reason: "mutated",
    });
    expect(Object.keys(annotations).sort()).toEqual(["decision", "keys", "owner", "reason"]);
    for (const key of Object.keys(annotations)) expect(key).not.toContain("/");
    expect(annotations.keys).toBe("a,b");
    expect((annotations.owner ?? "").length).toBeLessThanOrEqual(ADVICE_LIMITS.auditChars + 1);
  });
});
