// The scanners accept exactly what the regular expressions they replaced accepted (the patterns
// live only here, as the specification), and answer long hostile runs.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  between,
  isDigits,
  isDnsLabel,
  isDnsSubdomain,
  isNamePart,
  splitDigits,
  toDnsLabelChars,
  trimTrailing,
} from "./charset.js";

// Characters the rules care about, plus some they refuse (upper case, unicode, NUL, newline).
const text = fc.string({
  unit: fc.constantFrom(..."aZ09_.-/:x\u00e9\u0000\n".split(""), "\u{1F600}"),
  maxLength: 300,
});

describe("scanners agree with the patterns they replaced", () => {
  it("isNamePart is /^[a-zA-Z0-9_.-]{1,253}$/", () => {
    fc.assert(fc.property(text, (t) => isNamePart(t) === /^[a-zA-Z0-9_.-]{1,253}$/.test(t)));
  });

  it("isDnsLabel is /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/", () => {
    fc.assert(fc.property(text, (t) => isDnsLabel(t) === /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(t)));
  });

  it("isDnsSubdomain is /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/", () => {
    fc.assert(fc.property(text, (t) => isDnsSubdomain(t) === /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(t)));
  });

  it("isDigits is /^\\d+$/ and splitDigits is /^(\\d*)(.*)$/s", () => {
    fc.assert(
      fc.property(text, (t) => {
        const match = /^(\d*)(.*)$/s.exec(t);
        expect(splitDigits(t)).toEqual({ digits: match?.[1], rest: match?.[2] });
        return isDigits(t) === /^\d+$/.test(t);
      }),
    );
  });

  it("trimTrailing is .replace(/\\/+$/, '') and toDnsLabelChars is .replaceAll(/[^a-z0-9-]/g, '-')", () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(trimTrailing(t, "/")).toBe(t.replace(/\/+$/, ""));
        expect(toDnsLabelChars(t)).toBe(t.replaceAll(/[^a-z0-9-]/g, "-"));
      }),
    );
  });

  it("between is /^user--(.+)--secrets$/ on names without line breaks", () => {
    const storeLike = fc
      .tuple(fc.constantFrom("user--", "user-", ""), text, fc.constantFrom("--secrets", "-secrets", ""))
      .map(([a, b, c]) => (a + b + c).replaceAll("\n", ""));
    fc.assert(
      fc.property(storeLike, (t) => {
        expect(between(t, "user--", "--secrets")).toBe(/^user--(.+)--secrets$/.exec(t)?.[1]);
      }),
    );
  });
});

describe("scanners on long hostile runs", () => {
  it("answers runs of millions of characters", () => {
    const run = "/".repeat(5_000_000);
    expect(trimTrailing(`${run}a`, "/")).toBe(`${run}a`);
    expect(trimTrailing(run, "/")).toBe("");
    expect(isDnsSubdomain(`${"a.".repeat(2_500_000)}-`)).toBe(false);
    expect(isNamePart("a".repeat(5_000_000))).toBe(false);
    expect(between(`user--${"-".repeat(5_000_000)}`, "user--", "--secrets")).toBeUndefined();
  });
});
