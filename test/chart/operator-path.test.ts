// The README's operator path, checked against the chart: every `helm install`/`helm upgrade` of
// its "Install with Helm" section (the secrets API subsection included) renders with the project's
// helm, with the values it would have after the commands before it (`--reuse-values`), and the
// names the other documented commands rely on are the chart's: the image `make image` builds, the
// namespace label, the Secret holding the API's CA (and its key), the Service and Ingress host
// users reach, the trusted admin group. And the optional Ingress of the API, rendered alone.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { SECRET_KEYS } from "../../src/certs/rotation.js";
import { CHART, find, helm, KUBE_VERSION, type Manifest, render } from "./helm.js";

const README = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");

/** The section from "## Install with Helm" to the next top-level heading. */
function installSection(): string {
  const start = README.indexOf("\n## Install with Helm\n");
  const end = README.indexOf("\n## ", start + 1);
  expect(start).toBeGreaterThan(0);
  return README.slice(start, end);
}

/** Shell commands of the section's ```sh blocks: continuation lines joined, comments dropped. */
function commands(): string[][] {
  const out: string[][] = [];
  const blocks = installSection().split("```sh\n").slice(1);
  for (const block of blocks) {
    const body = block.slice(0, block.indexOf("```"));
    for (const line of body.replaceAll("\\\n", " ").split("\n")) {
      const words = shellWords(line);
      if (words.length > 0) out.push(words);
    }
  }
  return out;
}

/** Words of one command line as bash reads them: quotes, backslashes, `#` comments; `|`, `&&` end it. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "'") {
      const close = line.indexOf("'", i + 1);
      word = (word ?? "") + line.slice(i + 1, close);
      i = close;
    } else if (c === '"') {
      const close = line.indexOf('"', i + 1);
      word = (word ?? "") + line.slice(i + 1, close);
      i = close;
    } else if (c === "\\") {
      word = (word ?? "") + (line[i + 1] ?? "");
      i++;
    } else if (c === " ") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if ((c === "#" && word === undefined) || c === "|" || (c === "&" && line[i + 1] === "&")) {
      break;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

interface HelmRun {
  verb: "install" | "upgrade";
  release: string;
  namespace: string;
  values: string[];
}

const VALUE_FLAGS = new Set(["--set", "--set-string", "--set-json"]);
const OTHER_FLAGS = new Set(["--create-namespace", "--reuse-values"]);

/** A documented `helm install|upgrade RELEASE CHART …`; any flag this test does not know fails it. */
function helmRun(words: string[]): HelmRun {
  const [, verb, release, chart, ...rest] = words;
  expect(chart).toBe("charts/apolo-secrets-webhook");
  const run: HelmRun = {
    verb: verb as HelmRun["verb"],
    release: release as string,
    namespace: "",
    values: [],
  };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i] as string;
    if (flag === "--namespace" || flag === "-n") run.namespace = rest[++i] as string;
    else if (VALUE_FLAGS.has(flag)) run.values.push(flag, rest[++i] as string);
    else expect(OTHER_FLAGS.has(flag), `unknown helm flag in the README: ${flag}`).toBe(true);
  }
  if (verb === "upgrade") expect(rest).toContain("--reuse-values");
  return run;
}

function template(run: HelmRun, values: string[]): Manifest[] {
  const args = ["template", run.release, CHART, "--namespace", run.namespace, "--kube-version", KUBE_VERSION];
  const result = helm([...args, ...values]);
  expect(result.ok, `helm ${run.verb} of the README: ${result.stderr}`).toBe(true);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

type Container = { image: string; env: Array<{ name: string; value?: string }> };

function container(m: Manifest[], name: string): Container {
  const spec = find(m, "Deployment", name).spec as { template: { spec: { containers: Container[] } } };
  return spec.template.spec.containers[0] as Container;
}

function env(c: Container, name: string): string {
  return c.env.find((e) => e.name === name)?.value ?? "";
}

/** Renders every documented helm command in order; returns the last rendering and the runs. */
function renderDocumented(): { runs: HelmRun[]; manifests: Manifest[] } {
  const runs = commands()
    .filter((w) => w[0] === "helm" && (w[1] === "install" || w[1] === "upgrade"))
    .map(helmRun);
  let values: string[] = [];
  let manifests: Manifest[] = [];
  for (const run of runs) {
    values = run.verb === "install" ? run.values : [...values, ...run.values];
    manifests = template(run, values);
  }
  return { runs, manifests };
}

describe("README: the operator path renders", () => {
  const { runs, manifests } = renderDocumented();
  const all = commands();
  const release = runs[0]?.release as string;
  const namespace = runs[0]?.namespace as string;

  it("documents an install and the upgrades (kept values, a trusted admin group, the API)", () => {
    expect(runs.map((r) => r.verb)).toEqual(["install", "upgrade", "upgrade", "upgrade"]);
    expect(new Set(runs.map((r) => `${r.release} ${r.namespace}`)).size).toBe(1);
  });

  it("installs the image `make image` builds and the README pushes", () => {
    const built = all.find((w) => w[0] === "make" && w[1] === "image")?.[2] ?? "";
    expect(built.startsWith("IMAGE=")).toBe(true);
    const image = built.slice("IMAGE=".length);
    expect(all).toContainEqual(["docker", "push", image]);
    expect(container(manifests, release).image).toBe(image);
    expect(container(manifests, `${release}-api`).image).toBe(image);
  });

  it("enables the API in a namespace the webhook serves, labelled as the README says", () => {
    const api = container(manifests, `${release}-api`);
    const label = all.find((w) => w[0] === "kubectl" && w[1] === "label" && w[2] === "namespace");
    expect(label?.[3]).toBe(env(api, "APOLO_SECRETS_WEBHOOK_API_NAMESPACE"));
    const [key, value] = (label?.[4] ?? "").split("=");
    const configuration = find(manifests, "MutatingWebhookConfiguration") as unknown as {
      webhooks: Array<{ namespaceSelector: { matchLabels?: Record<string, string> } }>;
    };
    expect(configuration.webhooks[0]?.namespaceSelector.matchLabels?.[key as string]).toBe(value);
    expect(env(api, "APOLO_SECRETS_WEBHOOK_USERNAME_PREFIX")).toBe("system:serviceaccount:apolo-users:");
  });

  it("the CA command reads the Secret and key the API's certificate is kept in", () => {
    const ca = all.find((w) => w[0] === "kubectl" && w.includes("secret") && w.includes("get"));
    const caNamespace = ca?.[ca.indexOf("-n") + 1];
    const secret = ca?.[ca.indexOf("secret") + 1];
    const api = container(manifests, `${release}-api`);
    expect(env(api, "APOLO_SECRETS_WEBHOOK_TLS_SECRET")).toBe(`${caNamespace}/${secret}`);
    expect(ca).toContain(`jsonpath={.data.${SECRET_KEYS.bundle.replace(".", "\\.")}}`);
    expect(caNamespace).toBe(namespace);
  });

  it("users reach it where its certificate is valid: the Service's name and the Ingress host", () => {
    const api = container(manifests, `${release}-api`);
    const names = env(api, "APOLO_SECRETS_WEBHOOK_CERTIFICATE_DNS_NAMES").split(",");
    const service = find(manifests, "Service", `${release}-api`) as unknown as {
      spec: { type: string; ports: Array<{ name: string; port: number }> };
    };
    expect(service.spec.type).toBe("ClusterIP");
    expect(service.spec.ports.find((p) => p.name === "https")?.port).toBe(443);
    expect(installSection()).toContain(`https://${release}-api.${namespace}.svc`);
    expect(names).toContain(`${release}-api.${namespace}.svc`);

    const server = all
      .find((w) => w[0] === "export" && w[1]?.startsWith("APOLO_SECRETS_SERVER="))?.[1]
      ?.slice("APOLO_SECRETS_SERVER=https://".length);
    const ingress = find(manifests, "Ingress", `${release}-api`) as unknown as {
      metadata: { annotations: Record<string, string> };
      spec: {
        ingressClassName: string;
        rules: Array<{ host: string; http: { paths: Array<{ backend: unknown }> } }>;
      };
    };
    expect(ingress.spec.rules[0]?.host).toBe(server);
    expect(names).toContain(server);
    expect(ingress.spec.ingressClassName).toBe("nginx");
    expect(ingress.metadata.annotations["nginx.ingress.kubernetes.io/ssl-passthrough"]).toBe("true");
    expect(ingress.spec.rules[0]?.http.paths[0]?.backend).toEqual({
      service: { name: `${release}-api`, port: { name: "https" } },
    });
  });

  it("trusts the admin group for kubectl debug", () => {
    expect(env(container(manifests, release), "APOLO_SECRETS_WEBHOOK_TRUSTED_GROUPS")).toBe(
      "oidc:cluster-admins",
    );
  });
});

describe("the secrets API's Ingress (api.ingress)", () => {
  const api = ["api.enabled=true", "api.namespace=platform-jobs"];

  it("is off by default", () => {
    expect(render(api).filter((m) => m.kind === "Ingress")).toEqual([]);
  });

  it("needs a host", () => {
    expect(() => render([...api, "api.ingress.enabled=true"])).toThrow(
      /api\.ingress\.host is required when api\.ingress\.enabled is true/,
    );
  });

  it("ends TLS with its own certificate when tlsSecretName is set, and renders nothing without the API", () => {
    const m = render([
      ...api,
      "api.ingress.enabled=true",
      "api.ingress.host=secrets.example.com",
      "api.ingress.tlsSecretName=secrets-example-com",
    ]);
    const ingress = find(m, "Ingress") as unknown as {
      spec: { tls: unknown; ingressClassName?: string };
    };
    expect(ingress.spec.tls).toEqual([{ hosts: ["secrets.example.com"], secretName: "secrets-example-com" }]);
    expect(ingress.spec.ingressClassName).toBeUndefined();
    expect(
      render(["api.ingress.enabled=true", "api.ingress.host=x.example.com"]).filter(
        (x) => x.kind === "Ingress",
      ),
    ).toEqual([]);
  });

  it("refuses unknown keys and passes helm lint --strict", () => {
    expect(() => render([...api, "api.ingress.hosts=x"])).toThrow(
      /additional properties 'hosts' not allowed/,
    );
    const result = helm([
      "lint",
      "--strict",
      CHART,
      "--kube-version",
      KUBE_VERSION,
      ...[...api, "api.ingress.enabled=true", "api.ingress.host=secrets.example.com"].flatMap((v) => [
        "--set",
        v,
      ]),
    ]);
    expect(result.ok, result.stdout + result.stderr).toBe(true);
  });
});
