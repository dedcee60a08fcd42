// Splitting a PEM bundle scans once: an unterminated run of BEGIN markers used to make the lazy
// pattern rescan the rest of the text from every marker.

import { describe, expect, it } from "vitest";
import { splitBundle } from "./x509.js";

const BEGIN = "-----BEGIN CERTIFICATE-----";
const END = "-----END CERTIFICATE-----";

describe("splitBundle", () => {
  it("returns each certificate block, markers included, and ignores text around them", () => {
    const one = `${BEGIN}\nAAA\n${END}`;
    const two = `${BEGIN}\nBBB\n${END}`;
    expect(splitBundle(`junk\n${one}\n\n${two}\ntrailer`)).toEqual([one, two]);
    expect(splitBundle(`${BEGIN}${END}`)).toEqual([]);
    expect(splitBundle(`${BEGIN}\n${BEGIN}\nX\n${END}`)).toEqual([`${BEGIN}\n${BEGIN}\nX\n${END}`]);
    expect(splitBundle("")).toEqual([]);
  });

  it("answers 100,000 unterminated BEGIN markers", () => {
    expect(splitBundle(`${BEGIN}\n`.repeat(100_000))).toEqual([]);
  });
});
