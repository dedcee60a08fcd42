import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ownerOfUser } from "../core/identity.js";
import { ConfigError } from "./checks.js";
import { identityRuleOf } from "./identity.js";

const NAME = "--username-prefix (APOLO_SECRETS_WEBHOOK_USERNAME_PREFIX)";
const SA = "system:serviceaccount:apolo-users:";
const rule = (text: string) => identityRuleOf(NAME, text).usernamePrefixes;

describe("--username-prefix", () => {
  it("is names as they are when empty, one prefix as before, and a list with an empty item for both", () => {
    expect(rule("")).toEqual([""]);
    expect(rule("  ")).toEqual([""]);
    expect(rule(SA)).toEqual([SA]);
    expect(rule(`${SA},`)).toEqual([SA, ""]);
    expect(rule(` ${SA} , oidc: `)).toEqual([SA, "oidc:"]);
    expect(Object.isFrozen(identityRuleOf(NAME, SA).usernamePrefixes)).toBe(true);
  });

  it.each([
    [`${SA},${SA}`, `${NAME} lists '${SA}' twice`],
    [",", `${NAME} lists the empty item (names as they are) twice`],
    [
      "system:serviceaccount:,system:serviceaccount:apolo-users:",
      `${NAME}: 'system:serviceaccount:' and 'system:serviceaccount:apolo-users:' overlap (a user name starting with 'system:serviceaccount:apolo-users:' starts with both); list prefixes none of which starts another`,
    ],
    [
      "oidc-,",
      `${NAME}: with names as they are (the empty item), the prefix 'oidc-' must contain a character owner names never have, such as ':' (else the user 'oidc-alice' could be the owner 'oidc-alice' or 'alice')`,
    ],
    [
      Array.from({ length: 17 }, (_, i) => `p${i}:`).join(","),
      `${NAME} lists 17 prefixes; at most 16 are allowed`,
    ],
    [
      `${"x".repeat(254)}:`,
      `${NAME}: the prefix '${"x".repeat(40)}…' has 255 characters; at most 253 are allowed`,
    ],
  ])("refuses %j, saying why", (text, message) => {
    expect(() => rule(text)).toThrow(ConfigError);
    expect(() => rule(text)).toThrow(message);
  });

  it("accepts a prefix of owner-name characters alone, as the API always did", () => {
    expect(rule("oidc-")).toEqual(["oidc-"]);
  });

  it("gives every accepted list one reading of each name, whatever the order of its items", () => {
    const prefix = fc.constantFrom("", SA, "oidc:", "system:serviceaccount:other:", "u-", "x:y:");
    fc.assert(
      fc.property(
        fc.uniqueArray(prefix, { minLength: 1, maxLength: 4 }),
        fc.string({ maxLength: 10 }),
        (items, tail) => {
          let accepted: readonly string[];
          try {
            accepted = rule(items.join(","));
          } catch {
            return;
          }
          const reversed = { usernamePrefixes: [...accepted].reverse() };
          for (const start of [...items, "", "alice"]) {
            const user = start + tail;
            expect(ownerOfUser(user, reversed)).toEqual(ownerOfUser(user, { usernamePrefixes: accepted }));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
