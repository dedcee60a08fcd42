import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { kubeconfigAccess } from "./api-client.js";

function kubeconfig(
  user: string,
  cluster = "server: https://127.0.0.1:6443/\n    certificate-authority: ca.crt",
): string {
  const dir = mkdtempSync(join(tmpdir(), "kubeconfig-"));
  writeFileSync(join(dir, "ca.crt"), "CA FROM FILE");
  writeFileSync(join(dir, "token"), "token-from-file\n");
  const file = join(dir, "config");
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters:
- name: k
  cluster:
    ${cluster}
users:
- name: u
  user:
    ${user}
`,
  );
  return file;
}

describe("kubeconfigAccess", () => {
  it("reads the current context: server, CA file relative to the kubeconfig, inline client certificate", () => {
    const access = kubeconfigAccess(
      kubeconfig(
        `client-certificate-data: ${Buffer.from("CERT").toString("base64")}\n    client-key-data: ${Buffer.from("KEY").toString("base64")}`,
      ),
    );
    expect(access.server).toBe("https://127.0.0.1:6443");
    expect(access.ca?.toString()).toBe("CA FROM FILE");
    expect(access.cert?.toString()).toBe("CERT");
    expect(access.key?.toString()).toBe("KEY");
    expect(access.token).toBeUndefined();
  });

  it("reads a token or a token file", () => {
    expect(kubeconfigAccess(kubeconfig("token: abc")).token?.()).toBe("abc");
    expect(kubeconfigAccess(kubeconfig("tokenFile: token")).token?.()).toBe("token-from-file");
  });

  it("refuses exec plugins with a message that says what to use instead", () => {
    expect(() => kubeconfigAccess(kubeconfig("exec: {command: aws}"))).toThrow(
      /exec plugin or auth provider.*use a token or a client certificate/,
    );
  });
});
