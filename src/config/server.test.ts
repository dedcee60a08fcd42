// The settings serve and api share: the serving certificate rules and durations. Both commands
// read them through the same code, so each rule is checked once per command.

import { describe, expect, it } from "vitest";
import { parseCommand } from "./command.js";

const COMMANDS = {
  serve: ["serve", "--kubeconfig=/k"],
  api: ["api", "--kubeconfig=/k", "--namespace=apolo"],
} as const;
const FILES = ["--tls-cert-file=/c.crt", "--tls-key-file=/c.key"];
const SECRET = ["--tls-secret=ns/tls", "--certificate-dns-names=w.ns.svc"];

describe.each(Object.entries(COMMANDS))("%s: certificate settings", (_name, command) => {
  const parse = (args: string[]) => {
    const parsed = parseCommand([...command, ...args], {});
    if (parsed.command === "help" || parsed.command === "mutate") throw new Error("not a server");
    return parsed.config;
  };

  it.each([
    [
      "--ca-validity",
      "1.5h",
      "--ca-validity (APOLO_SECRETS_WEBHOOK_CA_VALIDITY) must be a duration like 90s, 10m, 720h or 30d, got '1.5h'",
    ],
    [
      "--ca-renew-before",
      "10",
      "--ca-renew-before (APOLO_SECRETS_WEBHOOK_CA_RENEW_BEFORE) must be a duration like 90s, 10m, 720h or 30d, got '10'",
    ],
    [
      "--certificate-validity",
      "0s",
      "--certificate-validity (APOLO_SECRETS_WEBHOOK_CERTIFICATE_VALIDITY) must be longer than zero",
    ],
    ["--certificate-renew-before", "5w", "must be a duration like 90s, 10m, 720h or 30d, got '5w'"],
    ["--ca-overlap", "-5m", "--ca-overlap (APOLO_SECRETS_WEBHOOK_CA_OVERLAP) must be a duration"],
    [
      "--certificate-check-interval",
      "often",
      "--certificate-check-interval (APOLO_SECRETS_WEBHOOK_CERTIFICATE_CHECK_INTERVAL) must be a duration",
    ],
    [
      "--certificate-dns-names",
      "ok.svc,Bad_Name",
      "--certificate-dns-names (APOLO_SECRETS_WEBHOOK_CERTIFICATE_DNS_NAMES): 'Bad_Name' is not a DNS name",
    ],
    [
      "--certificate-ip-addresses",
      "10.0.0.300",
      "--certificate-ip-addresses (APOLO_SECRETS_WEBHOOK_CERTIFICATE_IP_ADDRESSES): '10.0.0.300' is not an IP address",
    ],
  ])("checks %s even without --manage-certificates", (flag, value, message) => {
    expect(() => parse([...FILES, `${flag}=${value}`])).toThrow(message);
    expect(() => parse([...SECRET, "--manage-certificates", `${flag}=${value}`])).toThrow(message);
  });

  it.each([
    [
      ["--ca-validity=90d", "--ca-renew-before=90d"],
      "--ca-renew-before (APOLO_SECRETS_WEBHOOK_CA_RENEW_BEFORE) must be shorter than --ca-validity (APOLO_SECRETS_WEBHOOK_CA_VALIDITY), or the CA would be renewed forever",
    ],
    [
      ["--certificate-validity=10d", "--certificate-renew-before=11d"],
      "--certificate-renew-before (APOLO_SECRETS_WEBHOOK_CERTIFICATE_RENEW_BEFORE) must be shorter than --certificate-validity (APOLO_SECRETS_WEBHOOK_CERTIFICATE_VALIDITY), or the certificate would be renewed forever",
    ],
    [
      ["--ca-renew-before=1h", "--ca-overlap=1h"],
      "--ca-overlap (APOLO_SECRETS_WEBHOOK_CA_OVERLAP) must be shorter than --ca-renew-before (APOLO_SECRETS_WEBHOOK_CA_RENEW_BEFORE): a staged CA must sign before the old one expires",
    ],
  ])("refuses lifetimes %j that could never settle", (args, message) => {
    expect(() => parse([...SECRET, "--manage-certificates", ...args])).toThrow(message);
    expect(() => parse([...FILES, ...args])).toThrow(message);
  });

  it("accepts lifetimes just inside the rules", () => {
    const config = parse([
      ...SECRET,
      "--manage-certificates",
      "--ca-validity=2h",
      "--ca-renew-before=119m",
      "--ca-overlap=7139s",
      "--certificate-validity=1d",
      "--certificate-renew-before=86399999ms",
    ]);
    expect(config.certificates).toMatchObject({
      caValidityMs: 7_200_000,
      caRenewBeforeMs: 7_140_000,
      caOverlapMs: 7_139_000,
      certificateRenewBeforeMs: 86_399_999,
    });
  });

  it("serves files, or a Secret, never both and never neither", () => {
    expect(parse(FILES)).toMatchObject({ tlsCertFile: "/c.crt", tlsKeyFile: "/c.key", tlsSecret: undefined });
    expect(parse(["--tls-secret=ns/tls"])).toMatchObject({
      tlsCertFile: "",
      tlsSecret: { namespace: "ns", name: "tls" },
      certificates: undefined,
    });
    expect(() => parse([])).toThrow(/are required: the API server only calls webhooks over HTTPS/);
    expect(() => parse(["--tls-key-file=/c.key", "--tls-secret=ns/tls"])).toThrow(/not both/);
  });

  it("manages certificates only in a Secret, and only with names to issue for", () => {
    expect(() => parse([...FILES, "--manage-certificates"])).toThrow(/needs --tls-secret/);
    expect(() => parse(["--tls-secret=ns/tls", "--manage-certificates"])).toThrow(
      /needs --certificate-dns-names .* or --certificate-ip-addresses .*: the names the API server calls/,
    );
    expect(
      parse(["--tls-secret=ns/tls", "--manage-certificates", "--certificate-ip-addresses=127.0.0.1"])
        .certificates,
    ).toMatchObject({ dnsNames: [], ipAddresses: ["127.0.0.1"] });
  });
});
