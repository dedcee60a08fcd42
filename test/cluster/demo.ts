// `make demo`: the main job on a local control plane. alice and bob add secrets with apolo-secret
// through the secrets API; job pods submitted
// the way the platform submits them, the stored result and the refusals, printed; then teardown.
// Exits 0 only when every step behaved as described. `make up` keeps the cluster until Ctrl-C or
// SIGTERM; either signal, at any point, stops everything and removes the cluster folder. Run it
// with `node --import tsx` as the Makefile does: the `tsx` wrapper SIGKILLs its child when a
// relayed signal is not acknowledged within 30 ms, which a busy start does not manage.

import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  type V1Job,
  type V1Pod,
} from "@kubernetes/client-node";
import { APOLO_GLOBAL_FLAGS, apoloCommand, apoloUserEnv } from "./apolo-cli.js";
import { type ControlPlane, USERS } from "./control-plane.js";
import { type LocalCluster, startLocalCluster, stopLocalCluster } from "./harness.js";
import { platformToken } from "./identity-provider.js";
import { startPlatformConfig } from "./platform-config.js";
import { ADMIN_GROUP, type Playground, preparePlayground, printTryItYourself } from "./playground.js";
import { waitFor } from "./processes.js";
import { type SecretsApi, startSecretsApi, userToken } from "./secrets-api.js";
import { SERVED_NAMESPACE_LABEL } from "./webhook.js";

const mode = process.argv[2] === "up" ? "up" : "demo";
const NAMESPACE = "ml-jobs";
const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const say = (text = "") => process.stdout.write(`${text}\n`);
let failures = 0;

function check(ok: boolean, what: string): void {
  say(`  ${ok ? "✔" : "✘"} ${what}`);
  if (!ok) failures++;
}

function client(plane: ControlPlane, who: "admin" | "platform" | "bob"): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfigs[who]);
  return kc.makeApiClient(CoreV1Api);
}

function jobPod(name: string, owner: string, env: Record<string, string>, files?: string[]): V1Pod {
  return {
    metadata: {
      name,
      labels: {
        "platform.apolo.us/job": name,
        "platform.apolo.us/user": owner,
        "platform.apolo.us/preset": "gpu-small",
      },
      ...(files ? { annotations: { "platform.apolo.us/secret-volumes": JSON.stringify(files) } } : {}),
    },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      containers: [
        {
          name: "main",
          image: "ghcr.io/example/train:latest",
          env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
        },
      ],
    },
  };
}

async function refusedWith(call: Promise<unknown>): Promise<{ code: number; message: string } | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body =
      typeof error.body === "string"
        ? (JSON.parse(error.body) as { message?: string })
        : (error.body as { message?: string });
    return { code: error.code, message: body?.message ?? "" };
  }
}

/** `apolo-secret ARGS` as USER, the way a platform user runs it; prints the command and its output. */
function secretCli(secretsApi: SecretsApi, token: string, user: string, args: string[]): void {
  say(`  ${user}$ apolo-secret ${args.join(" ")}`);
  const out = execFileSync(join(import.meta.dirname, "../../bin/apolo-secret"), args, {
    encoding: "utf8",
    env: {
      ...process.env,
      APOLO_SECRETS_SERVER: secretsApi.url,
      APOLO_SECRETS_TOKEN: token,
      APOLO_SECRETS_CA_FILE: secretsApi.caFile,
    },
  });
  for (const line of out.trimEnd().split("\n")) say(`    ${line}`);
}

async function showRefusal(
  title: string,
  call: Promise<unknown>,
  code: number,
  expected: string,
): Promise<void> {
  say(bold(`\n${title}`));
  const refused = await refusedWith(call);
  if (!refused) {
    check(false, "the API server accepted it");
    return;
  }
  say(`  Error from server: ${refused.message}`);
  check(refused.code === code && refused.message.includes(expected), `refused with ${refused.code}`);
}

function batchClient(plane: ControlPlane, who: "platform" | "bob"): BatchV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfigs[who]);
  return kc.makeApiClient(BatchV1Api);
}

/** A batch Job whose pod template is the platform's job pod. */
function batchJob(name: string, owner: string, env: Record<string, string>): V1Job {
  const pod = jobPod(name, owner, env);
  return {
    metadata: { name },
    spec: { backoffLimit: 0, template: { metadata: pod.metadata, spec: pod.spec } },
  };
}

/** A Job: its template checked at creation, its pod made by the real job controller and resolved. */
async function runJobDemo(plane: ControlPlane, admin: CoreV1Api): Promise<void> {
  say(bold("\nalice's batch Job, submitted by the platform: the job controller creates its pod"));
  await batchClient(plane, "platform").createNamespacedJob({
    namespace: NAMESPACE,
    body: batchJob("finetune-alice", "alice", { HF_TOKEN: "secret:hf_token" }),
  });
  const pod = await waitFor(
    "the Job's pod",
    async () =>
      (
        await admin.listNamespacedPod({
          namespace: NAMESPACE,
          labelSelector: "batch.kubernetes.io/job-name=finetune-alice",
        })
      ).items[0],
    60_000,
    250,
  );
  const ref = pod.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef;
  say(`  pod ${pod.metadata?.name} (owner: Job ${pod.metadata?.ownerReferences?.[0]?.name})`);
  say(`    HF_TOKEN     valueFrom.secretKeyRef ${ref?.name}/${ref?.key}`);
  check(ref?.name === "user--alice--secrets" && ref.key === "hf_token", "the controller's pod resolved");

  await showRefusal(
    "bob's Job labelled as alice's (refused at kubectl apply, no pod is ever made)",
    batchClient(plane, "bob").createNamespacedJob({
      namespace: NAMESPACE,
      body: batchJob("forged-job", "alice", { DB: "secret:db_password" }),
    }),
    403,
    "'bob' may not create a Job whose pod template is labelled for owner 'alice'",
  );
  await showRefusal(
    "alice's Job naming a key she never added (refused at once, not a Job that cannot start)",
    batchClient(plane, "platform").createNamespacedJob({
      namespace: NAMESPACE,
      body: batchJob("missing-job", "alice", { WANDB: "secret:wandb_key" }),
    }),
    422,
    "Missing secrets: 'wandb_key'",
  );
}

/** The demo's steps; returns the secrets API it started (kept running by `make up`). */
async function runDemo(cluster: LocalCluster): Promise<SecretsApi> {
  const { plane } = cluster;
  const admin = client(plane, "admin");
  const platform = client(plane, "platform");
  const bob = client(plane, "bob");
  await admin.createNamespace({
    body: { metadata: { name: NAMESPACE, labels: { [SERVED_NAMESPACE_LABEL]: "enabled" } } },
  });
  await admin.createNamespacedServiceAccount({
    namespace: NAMESPACE,
    body: { metadata: { name: "default" } },
  });

  say(
    bold("\nUsers add their secrets with apolo-secret (the write-only secrets API; values never come back)"),
  );
  const secretsApi = await startSecretsApi(plane, NAMESPACE);
  const alice = userToken(plane, "alice");
  const bobToken = userToken(plane, "bob");
  const keyFile = join(cluster.dir, "gcp-key.json");
  writeFileSync(keyFile, JSON.stringify({ type: "service_account", private_key: "demo" }));
  secretCli(secretsApi, alice, "alice", ["add", "db_password", "pa55w0rd"]);
  secretCli(secretsApi, alice, "alice", ["add", "hf_token", "hf_demo_token"]);
  secretCli(secretsApi, alice, "alice", ["add", "gcp-key", `@${keyFile}`]);
  secretCli(secretsApi, bobToken, "bob", ["add", "db_password", "bobs-password"]);
  secretCli(secretsApi, alice, "alice", ["ls"]);

  say(bold(`\nalice's job, submitted by the platform (${USERS.platform.name})`));
  say("  --env DB_PASSWORD=secret:db_password --env HF_TOKEN=secret:hf_token");
  say("  --volume secret:gcp-key:/var/secrets/gcp.json");
  await platform.createNamespacedPod({
    namespace: NAMESPACE,
    body: jobPod(
      "train-alice",
      "alice",
      { EPOCHS: "10", DB_PASSWORD: "secret:db_password", HF_TOKEN: "secret:hf_token" },
      ["secret:gcp-key:/var/secrets/gcp.json"],
    ),
  });
  const stored = await admin.readNamespacedPod({ name: "train-alice", namespace: NAMESPACE });
  const container = stored.spec?.containers[0];
  say("  stored pod, env:");
  for (const env of container?.env ?? []) {
    const ref = env.valueFrom?.secretKeyRef;
    say(
      `    ${env.name.padEnd(12)} ${ref ? `valueFrom.secretKeyRef ${ref.name}/${ref.key}` : `value ${JSON.stringify(env.value)}`}`,
    );
  }
  say("  stored pod, mounts:");
  for (const mount of container?.volumeMounts ?? []) {
    const volume = stored.spec?.volumes?.find((v) => v.name === mount.name);
    say(
      `    ${mount.mountPath} ← ${volume?.secret?.secretName}/${mount.subPath} (readOnly, mode 0${(volume?.secret?.defaultMode ?? 0).toString(8)})`,
    );
  }
  const env = container?.env ?? [];
  check(
    env.find((e) => e.name === "DB_PASSWORD")?.valueFrom?.secretKeyRef?.key === "db_password",
    "DB_PASSWORD resolved to alice's store",
  );
  check(
    env.find((e) => e.name === "HF_TOKEN")?.valueFrom?.secretKeyRef?.name === "user--alice--secrets",
    "HF_TOKEN resolved to alice's store",
  );
  check(!JSON.stringify(stored.spec).includes("secret:"), "no literal secret: value left in the pod");
  check(
    container?.volumeMounts?.some(
      (m) => m.mountPath === "/var/secrets/gcp.json" && m.subPath === "gcp-key",
    ) === true,
    "gcp-key mounted read-only",
  );

  const refusals: Array<[string, CoreV1Api, V1Pod, number, string]> = [
    [
      "alice's job naming bob's secret (--env DB=secret:/bob/db_password)",
      platform,
      jobPod("cross-owner", "alice", { DB: "secret:/bob/db_password" }),
      403,
      "names a secret of 'bob', but this job belongs to 'alice'",
    ],
    [
      "alice's job naming keys she never added (--env WANDB=secret:wandb_key --env S3=secret:s3_key)",
      platform,
      jobPod("missing", "alice", { WANDB: "secret:wandb_key", S3: "secret:s3_key" }),
      422,
      "Missing secrets: 's3_key', 'wandb_key'",
    ],
    [
      "bob creating a pod labelled as alice's job (a forged owner)",
      bob,
      jobPod("forged", "alice", { DB: "secret:db_password" }),
      403,
      "'bob' may not submit a job for owner 'alice'",
    ],
    [
      "bob's pod reading alice's store directly (envFrom: user--alice--secrets)",
      bob,
      {
        metadata: { name: "bypass", labels: { "platform.apolo.us/user": "bob" } },
        spec: {
          automountServiceAccountToken: false,
          containers: [
            { name: "c", image: "busybox", envFrom: [{ secretRef: { name: "user--alice--secrets" } }] },
          ],
        },
      },
      403,
      "uses the secret store 'user--alice--secrets' of 'alice' directly",
    ],
  ];
  for (const [title, as, pod, code, expected] of refusals) {
    await showRefusal(title, as.createNamespacedPod({ namespace: NAMESPACE, body: pod }), code, expected);
  }
  showWarningAndAudit(plane);
  await runJobDemo(plane, admin);
  return secretsApi;
}

/** What kubectl prints besides the answer (a warning), and what the API server's audit log keeps. */
function showWarningAndAudit(plane: ControlPlane): void {
  say(bold("\nA typo, as kubectl shows it: the refusal and a warning with the close name alice has"));
  const pod = jobPod("typo", "alice", { DB: "secret:db_pasword" });
  const run = spawnSync(
    plane.tools.kubectl,
    ["--kubeconfig", plane.kubeconfigs.platform, "-n", NAMESPACE, "create", "--dry-run=server", "-f", "-"],
    { input: JSON.stringify({ apiVersion: "v1", kind: "Pod", ...pod }), encoding: "utf8" },
  );
  const warning = run.stderr.split("\n").find((line) => line.startsWith("Warning:"));
  say(`  ${warning ?? "(no warning)"}`);
  check(warning?.includes("did you mean 'db_password'?") === true, "the warning names db_password");

  say(bold("\nThe API server's audit log: which job used which secret, names only"));
  const event = readFileSync(plane.auditLog, "utf8")
    .split("\n")
    .filter((line) => line.includes('"name":"train-alice"') && line.includes("secrets.apolo.us/keys"))
    .map((line) => JSON.parse(line) as { annotations?: Record<string, string> })[0];
  const annotations = Object.entries(event?.annotations ?? {}).filter(([key]) =>
    key.startsWith("secrets.apolo.us/"),
  );
  say(`  pods/train-alice create: ${annotations.map(([key, value]) => `${key}=${value}`).join(" ")}`);
  check(
    annotations.some(([key, value]) => key === "secrets.apolo.us/keys" && value.includes("db_password")),
    "the audit event names the keys",
  );
}

/**
 * `make up`: the platform's own apolo CLI for alice and bob. Their platform tokens (JWTs of the
 * test identity provider) name them as is, so a secrets API with no user-name prefix serves them,
 * on the same stores as the demo's; the stub of the platform's /config points the CLI at it.
 */
async function showApoloCli(cluster: LocalCluster): Promise<void> {
  const api = await startSecretsApi(cluster.plane, NAMESPACE, undefined, {
    usernamePrefix: "",
    name: "secrets-api-platform",
  });
  const platform = await startPlatformConfig(cluster.plane.ca, `${api.url}/api/v1/secrets`);
  say(bold("\nThe platform's apolo CLI (platform tokens, valid 12 h; each user in a shell of their own):"));
  for (const user of ["alice", "bob"]) {
    const env = apoloUserEnv(cluster.dir, user, cluster.plane.ca.certFile);
    const token = platformToken(cluster.plane.identityProvider, user, { ttlSeconds: 12 * 3600 });
    say(`  ${user}:`);
    // HOME too: the CLI logs every command line (a value given on it included) under
    // ~/.apolo/logs; here that is the cluster folder, removed at exit.
    say(
      `    export HOME=${env.HOME} APOLO_CONFIG=${env.APOLO_CONFIG} PYTHONPATH=${env.PYTHONPATH} NEURO_CLI_DISABLE_PYPI_VERSION_CHECK=1`,
    );
    say(`    alias apolo='${apoloCommand()} ${APOLO_GLOBAL_FLAGS[0]}'`);
    say(`    apolo config login-with-token ${token} ${platform.url}`);
  }
  say(
    "  then: apolo secret add KEY VALUE | apolo secret add KEY @FILE | apolo secret ls | apolo secret rm KEY",
  );
}

/**
 * The first SIGINT or SIGTERM, from the very start: a signal that arrived before its handler was
 * installed would end the process at once and leave the cluster folder (etcd data, client keys)
 * in the temporary directory.
 */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve(signal));
  });
}

/** Resolves with the signal if it comes first, else with undefined when `work` settles. */
async function unlessStopped(work: Promise<unknown>, stop: Promise<NodeJS.Signals>) {
  return Promise.race([work.then(() => undefined), stop]);
}

async function main(): Promise<number> {
  const started = Date.now();
  const stop = stopSignal();
  let signalled: NodeJS.Signals | undefined;
  void stop.then((signal) => {
    signalled = signal;
    say(`${signal}: stopping (the control plane and the webhook are stopped and their folder removed)`);
  });
  say(bold(mode === "up" ? "Starting a local control plane with the webhook" : "apolo-secrets-webhook demo"));
  // A signal during the start is honoured once the start returns: only then is there a cluster to stop.
  // `make up` trusts an admin group, so its printed `kubectl debug` line works for an admin.
  const cluster = await startLocalCluster((line) => say(`  ${line}`), {
    webhookArgs: mode === "up" ? [`--trusted-groups=${ADMIN_GROUP}`] : [],
  });
  try {
    if (signalled) return mode === "up" ? 0 : 1;
    if (mode === "up") {
      let playground: Playground | undefined;
      const demo = runDemo(cluster).then(
        (secretsApi) => {
          playground = preparePlayground(cluster.plane, secretsApi, NAMESPACE);
        },
        (error: unknown) => say(`demo data not created: ${String(error)}`),
      );
      if (await unlessStopped(demo, stop)) return 0;
      say(bold("\nThe cluster is up."));
      say(`  export KUBECONFIG=${cluster.plane.kubeconfigs.admin}`);
      say(`  kubectl: ${cluster.plane.tools.kubectl}`);
      say(
        `  as the platform: --kubeconfig ${cluster.plane.kubeconfigs.platform}; as alice: ${cluster.plane.kubeconfigs.alice}; as bob: ${cluster.plane.kubeconfigs.bob}`,
      );
      say(`  webhook log: ${cluster.dir}/webhook.log`);
      if (playground) printTryItYourself(playground, say);
      await showApoloCli(cluster).catch((error: unknown) => say(`apolo CLI not set up: ${String(error)}`));
      say("Press Ctrl-C (or send SIGTERM) to stop and clean up.");
      // Signal handlers do not keep Node running (the children are unref'd): a timer does.
      const keepAlive = setInterval(() => {}, 60_000);
      await stop;
      clearInterval(keepAlive);
      return 0;
    }
    if (await unlessStopped(runDemo(cluster), stop)) return 1;
    say(
      bold(
        `\n${failures === 0 ? "Every step behaved as described" : `${failures} step(s) did not behave as described`} (${((Date.now() - started) / 1000).toFixed(1)} s).`,
      ),
    );
    return failures === 0 ? 0 : 1;
  } finally {
    say("Stopping the control plane and the webhook ...");
    await stopLocalCluster(cluster);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
