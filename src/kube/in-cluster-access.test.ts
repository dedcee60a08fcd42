import { describe, expect, it } from "vitest";
import { inClusterAccess, kubeClientFor } from "./api-client.js";

describe("inClusterAccess", () => {
  it("reads no environment: without the Service address config found, it says to pass --kubeconfig", () => {
    const saved = process.env.KUBERNETES_SERVICE_HOST;
    process.env.KUBERNETES_SERVICE_HOST = "10.0.0.1";
    try {
      expect(() => inClusterAccess(undefined)).toThrow(
        "not running in a cluster (KUBERNETES_SERVICE_HOST is unset): pass --kubeconfig",
      );
      expect(() => kubeClientFor(undefined, undefined)).toThrow(/pass --kubeconfig/);
    } finally {
      if (saved === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      else process.env.KUBERNETES_SERVICE_HOST = saved;
    }
  });
});
