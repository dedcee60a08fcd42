// The chart, rendered and linted by helm: defaults, every documented option combination, and
// schema rejections. The rendered objects are applied to a real API server in test/e2e/chart.test.ts.

import { describe, expect, it } from "vitest";
import { CHART, find, helm, type Manifest, render } from "./helm.js";

interface Container {
  env: Array<{ name: string; value: string }>;
  securityContext: Record<string, unknown>;
  livenessProbe: unknown;
  readinessProbe: { httpGet: { path: string; port: string; scheme?: string } };
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  resources: unknown;
}
interface DeploymentSpec {
  replicas: number;
  template: {
    spec: {
      containers: Container[];
      securityContext: Record<string, unknown>;
      terminationGracePeriodSeconds: number;
      topologySpreadConstraints?: unknown[];
      priorityClassName?: string;
      serviceAccountName: string;
      volumes: Array<{ name: string; configMap?: unknown; secret?: unknown }>;
    };
  };
}
interface Webhook {
  failurePolicy: string;
  sideEffects: string;
  reinvocationPolicy: string;
  timeoutSeconds: number;
  clientConfig: { url?: string; service?: { name: string; namespace: string }; caBundle?: string };
  rules: Array<{ operations: string[]; resources: string[] }>;
  namespaceSelector: {
    matchLabels?: Record<string, string>;
    matchExpressions: Array<{ key: string; operator: string; values: string[] }>;
  };
}

const deployment = (m: Manifest[]) => find(m, "Deployment").spec as DeploymentSpec;
const container = (m: Manifest[]) => deployment(m).template.spec.containers[0] as Container;
const env = (m: Manifest[], name: string) =>
  container(m).env.find((e) => e.name === `APOLO_SECRETS_WEBHOOK_${name}`)?.value;
const webhook = (m: Manifest[]) =>
  (find(m, "MutatingWebhookConfiguration").webhooks as Webhook[])[0] as Webhook;

const COMBINATIONS: Record<string, string[]> = {
  defaults: [],
  "project scope with trusted submitters": [
    "webhook.scope=project",
    "webhook.clusterName=prod",
    "webhook.trustedUsers={system:serviceaccount:platform:api}",
    "webhook.trustedGroups={platform-admins}",
  ],
  "named namespaces": ["webhook.namespaces={jobs-a,jobs-b}"],
  "cert-manager with a generated CA": ["certificates.mode=cert-manager"],
  "cert-manager with an issuer": [
    "certificates.mode=cert-manager",
    "certificates.certManager.issuerRef.name=cluster-ca",
    "certificates.certManager.issuerRef.kind=ClusterIssuer",
  ],
  "network policy and service monitor": [
    "networkPolicy.enabled=true",
    "networkPolicy.apiServerCidrs={10.0.0.1/32}",
    "metrics.serviceMonitor.enabled=true",
  ],
  "secrets API": [
    "api.enabled=true",
    "api.namespace=platform-jobs",
    "api.usernamePrefix=system:serviceaccount:apolo-users:",
  ],
  "secrets API in named namespaces": [
    "webhook.namespaces={platform-jobs,other-jobs}",
    "api.enabled=true",
    "api.namespace=platform-jobs",
  ],
  "secrets API with cert-manager": [
    "api.enabled=true",
    "api.namespace=platform-jobs",
    "certificates.mode=cert-manager",
  ],
  "client certificates required, CA from a ConfigMap": [
    "webhook.clientAuth.enabled=true",
    "webhook.clientAuth.caConfigMap=apiserver-webhook-client-ca",
    "webhook.clientAuth.allowedNames={kube-apiserver-webhook-client}",
  ],
  "client certificates required, CA from a Secret": [
    "webhook.clientAuth.enabled=true",
    "webhook.clientAuth.caSecret=apiserver-webhook-client-ca",
    "webhook.clientAuth.caKey=bundle.pem",
  ],
  "development URL, no PDB, existing service account, priority": [
    "webhook.clientConfigUrl=https://127.0.0.1:8443/mutate",
    "podDisruptionBudget.enabled=false",
    "serviceAccount.create=false",
    "serviceAccount.name=existing",
    "priorityClassName=system-cluster-critical",
  ],
};

describe("helm lint", () => {
  for (const [name, values] of Object.entries(COMBINATIONS)) {
    it(`passes --strict: ${name}`, () => {
      const result = helm([
        "lint",
        "--strict",
        CHART,
        "--kube-version",
        "1.36.3",
        ...values.flatMap((v) => ["--set", v]),
      ]);
      expect(result.ok, result.stdout + result.stderr).toBe(true);
      expect(result.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
    });
  }
});

describe("helm template", () => {
  it("renders a hardened, spread, two-replica Deployment with probes and a drain-length grace period", () => {
    const m = render();
    const spec = deployment(m);
    expect(spec.replicas).toBe(2);
    expect(spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container(m).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(container(m).readinessProbe.httpGet).toMatchObject({ path: "/readyz", scheme: "HTTPS" });
    expect(container(m).livenessProbe).toBeDefined();
    expect(container(m).resources).toBeDefined();
    expect(spec.template.spec.topologySpreadConstraints?.length).toBeGreaterThan(0);
    const drainMs = Number(env(m, "SHUTDOWN_DELAY_MS")) + Number(env(m, "DRAIN_TIMEOUT_MS"));
    expect(spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(drainMs);
    expect(find(m, "PodDisruptionBudget").spec).toMatchObject({ minAvailable: 1 });
  });

  it("registers CREATE of pods, UPDATE of pods/ephemeralcontainers and CREATE/UPDATE of the workload kinds, failing closed, for every object of a served namespace, never in kube-system or its own namespace", () => {
    const m = render([], "apolo-system");
    const w = webhook(m);
    expect(w).toMatchObject({ failurePolicy: "Fail", sideEffects: "None", reinvocationPolicy: "IfNeeded" });
    expect(w.timeoutSeconds).toBeLessThanOrEqual(10);
    expect(w.rules.map((r) => `${r.operations.join()} ${r.resources.join()}`)).toEqual([
      "CREATE pods",
      "UPDATE pods/ephemeralcontainers",
      "CREATE,UPDATE replicationcontrollers",
      "CREATE,UPDATE jobs,cronjobs",
      "CREATE,UPDATE deployments,replicasets,statefulsets,daemonsets",
    ]);
    expect(w.clientConfig.caBundle).toBeUndefined();
    expect(w).not.toHaveProperty("objectSelector");
    const excluded = w.namespaceSelector.matchExpressions.find((e) => e.operator === "NotIn");
    expect(excluded?.values).toEqual(expect.arrayContaining(["kube-system", "apolo-system"]));
    expect(w.namespaceSelector.matchLabels).toEqual({ "platform.apolo.us/secrets-webhook": "enabled" });
  });

  it("keeps the exclusions even when the selector is replaced or the namespaces are named", () => {
    const named = webhook(render(["webhook.namespaces={jobs-a,jobs-b}"], "ops"));
    expect(named.namespaceSelector.matchExpressions).toEqual([
      { key: "kubernetes.io/metadata.name", operator: "In", values: ["jobs-a", "jobs-b"] },
      {
        key: "kubernetes.io/metadata.name",
        operator: "NotIn",
        values: ["ops", "kube-system", "kube-public", "kube-node-lease"],
      },
    ]);
    const custom = webhook(
      render(["webhook.namespaceSelector.matchLabels=null", "json:webhook.excludedNamespaces=[]"], "ops"),
    );
    expect(custom.namespaceSelector.matchExpressions.at(-1)?.values).toEqual(["ops"]);
  });

  it("passes every webhook setting to the server", () => {
    const m = render(COMBINATIONS["project scope with trusted submitters"] as string[]);
    expect(env(m, "SCOPE")).toBe("project");
    expect(env(m, "CLUSTER_NAME")).toBe("prod");
    expect(env(m, "TRUSTED_USERS")).toBe("system:serviceaccount:platform:api");
    expect(env(m, "TRUSTED_GROUPS")).toBe("platform-admins");
    // Unset: the server's default list; a list (even empty) replaces it.
    expect(env(m, "TRUSTED_CONTROLLERS")).toBeUndefined();
    const controllers = render(["webhook.trustedControllers={system:kube-controller-manager}"]);
    expect(env(controllers, "TRUSTED_CONTROLLERS")).toBe("system:kube-controller-manager");
    expect(env(render(["json:webhook.trustedControllers=[]"]), "TRUSTED_CONTROLLERS")).toBe("");
    expect(env(m, "TLS_SECRET")).toBe("apolo-system/asw-apolo-secrets-webhook-tls");
    expect(env(m, "MANAGE_CERTIFICATES")).toBe("true");
    expect(env(m, "CERTIFICATE_DNS_NAMES")).toContain("asw-apolo-secrets-webhook.apolo-system.svc");
    const tuned = render(["extraEnv[0].name=NODE_OPTIONS", "extraEnv[0].value=--max-old-space-size=192"]);
    expect(container(tuned).env.at(-1)).toEqual({ name: "NODE_OPTIONS", value: "--max-old-space-size=192" });
  });

  it("grants least privilege: store reads per named namespace, certificate access by name", () => {
    const cluster = render();
    const reader = find(cluster, "ClusterRole", "asw-apolo-secrets-webhook-read-stores");
    expect(reader.rules).toEqual([
      { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] },
    ]);
    const injector = find(cluster, "ClusterRole", "asw-apolo-secrets-webhook-ca-injector");
    expect(injector.rules).toEqual([
      {
        apiGroups: ["admissionregistration.k8s.io"],
        resources: ["mutatingwebhookconfigurations"],
        resourceNames: ["asw-apolo-secrets-webhook"],
        verbs: ["get", "patch"],
      },
    ]);

    const named = render(["webhook.namespaces={jobs-a,jobs-b}"]);
    expect(named.filter((m) => m.kind === "ClusterRole").map((m) => m.metadata.name)).toEqual([
      "asw-apolo-secrets-webhook-ca-injector",
    ]);
    expect(
      named
        .filter((m) => m.kind === "Role" && m.metadata.name.endsWith("read-stores"))
        .map((m) => m.metadata.namespace),
    ).toEqual(["jobs-a", "jobs-b"]);

    const certManager = render(["certificates.mode=cert-manager"]);
    expect(certManager.some((m) => m.metadata.name.endsWith("ca-injector"))).toBe(false);
    expect(find(certManager, "Role", "asw-apolo-secrets-webhook-certificates").rules).toEqual([
      {
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: ["asw-apolo-secrets-webhook-tls"],
        verbs: ["get"],
      },
    ]);
  });

  it("lets cert-manager issue and inject in cert-manager mode", () => {
    const m = render(["certificates.mode=cert-manager"]);
    expect(find(m, "MutatingWebhookConfiguration").metadata.annotations).toEqual({
      "cert-manager.io/inject-ca-from": "apolo-system/asw-apolo-secrets-webhook",
    });
    expect(find(m, "Certificate", "asw-apolo-secrets-webhook").spec).toMatchObject({
      secretName: "asw-apolo-secrets-webhook-tls",
      issuerRef: { name: "asw-apolo-secrets-webhook-ca", kind: "Issuer" },
    });
    expect(env(m, "MANAGE_CERTIFICATES")).toBeUndefined();
    const issued = render(COMBINATIONS["cert-manager with an issuer"] as string[]);
    expect(issued.filter((x) => x.kind === "Issuer")).toEqual([]);
  });

  it("renders the optional network policy, service monitor and development URL", () => {
    const m = render(COMBINATIONS["network policy and service monitor"] as string[]);
    expect(JSON.stringify(find(m, "NetworkPolicy").spec)).toContain('"cidr":"10.0.0.1/32"');
    expect(find(m, "ServiceMonitor").spec).toMatchObject({
      endpoints: [{ port: "metrics", path: "/metrics" }],
    });
    const dev = render(
      COMBINATIONS["development URL, no PDB, existing service account, priority"] as string[],
    );
    expect(webhook(dev).clientConfig).toEqual({ url: "https://127.0.0.1:8443/mutate" });
    expect(dev.some((x) => x.kind === "PodDisruptionBudget" || x.kind === "ServiceAccount")).toBe(false);
    expect(deployment(dev).template.spec.serviceAccountName).toBe("existing");
    expect(deployment(dev).template.spec.priorityClassName).toBe("system-cluster-critical");
  });
});

describe("client certificates and memory (webhook.clientAuth, maxInflightBodyBytes, nodeOptions)", () => {
  it("mounts the client CA, points the webhook at it, and probes readiness on the plain port", () => {
    const m = render(COMBINATIONS["client certificates required, CA from a ConfigMap"] as string[]);
    expect(env(m, "CLIENT_CA_FILE")).toBe("/etc/apolo-secrets-webhook/client-ca/ca.crt");
    expect(env(m, "CLIENT_ALLOWED_NAMES")).toBe("kube-apiserver-webhook-client");
    expect(container(m).volumeMounts).toContainEqual({
      name: "client-ca",
      mountPath: "/etc/apolo-secrets-webhook/client-ca",
      readOnly: true,
    });
    expect(deployment(m).template.spec.volumes).toContainEqual({
      name: "client-ca",
      configMap: { name: "apiserver-webhook-client-ca", items: [{ key: "ca.crt", path: "ca.crt" }] },
    });
    // The kubelet has no client certificate.
    expect(container(m).readinessProbe.httpGet).toEqual({ path: "/readyz", port: "metrics" });

    const fromSecret = render(COMBINATIONS["client certificates required, CA from a Secret"] as string[]);
    expect(env(fromSecret, "CLIENT_CA_FILE")).toBe("/etc/apolo-secrets-webhook/client-ca/bundle.pem");
    expect(deployment(fromSecret).template.spec.volumes).toContainEqual({
      name: "client-ca",
      secret: {
        secretName: "apiserver-webhook-client-ca",
        items: [{ key: "bundle.pem", path: "bundle.pem" }],
      },
    });

    const off = render();
    expect(env(off, "CLIENT_CA_FILE")).toBeUndefined();
    expect(deployment(off).template.spec.volumes.map((v) => v.name)).toEqual(["tmp"]);
  });

  it("needs exactly one source of the client CA", () => {
    const message =
      /webhook\.clientAuth\.enabled needs exactly one of webhook\.clientAuth\.caConfigMap or webhook\.clientAuth\.caSecret/;
    expect(() => render(["webhook.clientAuth.enabled=true"])).toThrow(message);
    expect(() =>
      render([
        "webhook.clientAuth.enabled=true",
        "webhook.clientAuth.caConfigMap=a",
        "webhook.clientAuth.caSecret=b",
      ]),
    ).toThrow(message);
  });

  it("bounds the bodies in flight and the V8 heap by default", () => {
    const m = render();
    expect(env(m, "MAX_INFLIGHT_BODY_BYTES")).toBe("16777216");
    expect(container(m).env.find((e) => e.name === "NODE_OPTIONS")?.value).toBe(
      "--max-old-space-size=128 --max-semi-space-size=8",
    );
    expect(env(m, "MAX_CONNECTIONS")).toBe("1000");
  });
});

describe("the secrets API (api.enabled)", () => {
  it("runs `api` with write-only access to stores in its one namespace and token reviews, nothing else", () => {
    const m = render(COMBINATIONS["secrets API"] as string[]);
    const deploymentSpec = find(m, "Deployment", "asw-apolo-secrets-webhook-api").spec as DeploymentSpec & {
      template: { spec: { containers: Array<Container & { args: string[] }> } };
    };
    const apiContainer = deploymentSpec.template.spec.containers[0];
    expect(apiContainer?.args).toEqual(["api"]);
    expect(apiContainer?.env.find((e) => e.name === "APOLO_SECRETS_WEBHOOK_API_NAMESPACE")?.value).toBe(
      "platform-jobs",
    );
    expect(apiContainer?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    const writer = find(m, "Role", "asw-apolo-secrets-webhook-api-write-stores");
    expect(writer.metadata.namespace).toBe("platform-jobs");
    expect(writer.rules).toEqual([
      { apiGroups: [""], resources: ["secrets"], verbs: ["get", "create", "update"] },
    ]);
    expect(find(m, "ClusterRole", "asw-apolo-secrets-webhook-api-token-review").rules).toEqual([
      { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
    ]);
    // Memory bounds like the webhook's: bodies in flight, connections and the V8 heap.
    expect(Object.fromEntries((apiContainer?.env ?? []).map((e) => [e.name, e.value]))).toMatchObject({
      APOLO_SECRETS_WEBHOOK_MAX_INFLIGHT_BODY_BYTES: "6291456",
      APOLO_SECRETS_WEBHOOK_MAX_CONNECTIONS: "1000",
      NODE_OPTIONS: "--max-old-space-size=128 --max-semi-space-size=2",
    });
    expect(find(m, "Service", "asw-apolo-secrets-webhook-api")).toBeDefined();
    expect(render().some((x) => x.metadata.name.includes("-api"))).toBe(false);
  });

  it.each([
    [
      ["api.namespace=apolo-system"],
      "api.namespace 'apolo-system' is the release namespace, which the webhook never serves: jobs there would get no secret checks. Set api.namespace to the jobs' namespace, or install the release in another namespace",
    ],
    [
      ["api.namespace=kube-public"],
      "api.namespace 'kube-public' is in webhook.excludedNamespaces, which the webhook never serves: set api.namespace to a served namespace, or remove it from webhook.excludedNamespaces",
    ],
    [
      ["api.namespace=platform-jobs", "webhook.namespaces={jobs-a,jobs-b}"],
      `api.namespace 'platform-jobs' is not in webhook.namespaces ["jobs-a","jobs-b"]: the webhook would neither read nor check the stores written there. Add it to webhook.namespaces, or set api.namespace to one of them`,
    ],
  ])("refuses a store namespace the webhook never checks: %j", (values, message) => {
    // helm install and upgrade render the same way, so they are refused with the same message.
    expect(() => render(["api.enabled=true", ...values], "apolo-system")).toThrow(message);
  });

  it("renders when the store namespace is one the webhook serves", () => {
    const m = render(COMBINATIONS["secrets API in named namespaces"] as string[]);
    expect(find(m, "Role", "asw-apolo-secrets-webhook-api-write-stores").metadata.namespace).toBe(
      "platform-jobs",
    );
    expect(webhook(m).namespaceSelector.matchExpressions[0]?.values).toContain("platform-jobs");
  });

  it("needs the namespace it writes to", () => {
    expect(() => render(["api.enabled=true"])).toThrow(
      /api\.namespace is required when api\.enabled is true/,
    );
  });
});

describe("least privilege and consistent namespaces", () => {
  it("passes the store label selectors, the secrets API's label among them, to the server", () => {
    expect(env(render(), "SECRET_LABEL_SELECTOR")).toBe(
      "platform.apolo.us/secrets-store=true;platform.neuromation.io/secret-api-org-name",
    );
    const custom = render(["webhook.secretLabelSelectors={team=ml}"]);
    expect(env(custom, "SECRET_LABEL_SELECTOR")).toBe("team=ml");
  });

  it.each(["apolo-system", "kube-system"])(
    "refuses webhook.namespaces naming %s, a namespace the webhook never serves",
    (namespace) => {
      expect(() => render([`webhook.namespaces={jobs-a,${namespace}}`], "apolo-system")).toThrow(
        `webhook.namespaces lists '${namespace}'`,
      );
    },
  );

  it("grants Roles only in the named namespaces, which are exactly the served ones", () => {
    const m = render(["webhook.namespaces={jobs-a,jobs-b}"]);
    const readers = m.filter((x) => x.metadata.name.endsWith("read-stores"));
    expect(readers.map((x) => `${x.kind}/${x.metadata.namespace}`).sort()).toEqual([
      "Role/jobs-a",
      "Role/jobs-b",
      "RoleBinding/jobs-a",
      "RoleBinding/jobs-b",
    ]);
    expect(webhook(m).namespaceSelector.matchLabels).toBeUndefined();
    expect(webhook(m).namespaceSelector.matchExpressions[0]).toEqual({
      key: "kubernetes.io/metadata.name",
      operator: "In",
      values: ["jobs-a", "jobs-b"],
    });
    expect(env(m, "NAMESPACES")).toBe("jobs-a,jobs-b");
  });
});

describe("values.schema.json", () => {
  it.each([
    [["replicaCount=two"], /replicaCount.*(integer|number)/i],
    [["unknownKey=1"], /additional properties 'unknownKey' not allowed/i],
    [["webhook.scope=team"], /at '\/webhook\/scope': value must be one of 'user', 'project'/],
    [["webhook.timeoutSeconds=31"], /timeoutSeconds.*(maximum|less than or equal)/i],
    [["certificates.caValidity=1year"], /caValidity.*(pattern|does not match)/i],
    [["webhook.failurePolicy=Maybe"], /failurePolicy/],
    // Ignore would let pods through unchecked whenever the webhook is down.
    [["webhook.failurePolicy=Ignore"], /at '\/webhook\/failurePolicy': value must be 'Fail'/],
    [["webhook.namespaces={Bad_Name}"], /namespaces/],
    // Pods and workloads without the selected labels would skip every check (a forged owner).
    [["webhook.objectSelector.matchLabels.team=ml"], /webhook\.objectSelector is not supported/],
    [["json:webhook.secretLabelSelectors=[]"], /secretLabelSelectors.*(minItems|at least 1)/i],
    [["webhook.secretLabelSelector=x"], /additional properties 'secretLabelSelector' not allowed/i],
    [
      ["networkPolicy.enabled=true"],
      /networkPolicy\.apiServerCidrs must list the API server's addresses \(CIDRs\)/,
    ],
  ])("refuses %j with a clear message", (values, message) => {
    expect(() => render(values)).toThrow(message);
  });
});
