// `make up` as a place to try things: per user, ready-to-paste lines for apolo-secret (server, CA
// file, token) and for submitting a job pod that uses the secret, plus `kubectl debug` as an admin
// of a group the webhook trusts. test/e2e/playground.test.ts runs the printed lines with bash.
// Everything it writes (token files, pod files, kubeconfigs) lives in the cluster folder, which
// `make up` removes on Ctrl-C.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { type ControlPlane, kubectl, userKubeconfig } from "./control-plane.js";
import { type SecretsApi, USERS_NAMESPACE } from "./secrets-api.js";

/** The group whose members `make up`'s webhook trusts (`--trusted-groups`): admins who debug pods. */
export const ADMIN_GROUP = "apolo:admins";
/** An admin of ADMIN_GROUP (a client-certificate user with pod and debug rights in the jobs' namespace). */
export const ADMIN_USER = "ops";
/** The secret every user adds in the printed lines, and the job pods reference. */
export const PLAYGROUND_KEY = "my_token";

const BIN = join(import.meta.dirname, "../../bin");

export interface PlaygroundUser {
  name: "alice" | "bob";
  kubeconfig: string;
  tokenFile: string;
  /** Their own job pod: an env var and a file from PLAYGROUND_KEY. */
  podFile: string;
  podName: string;
}

export interface Playground {
  namespace: string;
  kubectl: string;
  secretsApi: { url: string; caFile: string };
  alice: PlaygroundUser;
  bob: PlaygroundUser;
  /** bob's pod naming alice's secret (secret:/alice/KEY): refused. */
  bobForeignPodFile: string;
  ops: { kubeconfig: string };
}

/** A platform job pod of `owner` (labels as the platform sets them), in YAML. */
function jobPodYaml(name: string, owner: string, reference: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      labels: { "platform.apolo.us/job": name, "platform.apolo.us/user": owner },
      annotations: {
        "platform.apolo.us/secret-volumes": JSON.stringify([`${reference}:/var/secrets/${PLAYGROUND_KEY}`]),
      },
    },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      containers: [
        {
          name: "main",
          image: "busybox",
          // Says the secret arrived without printing it (pod logs are no place for a value).
          command: [
            "sh",
            "-c",
            `test -s /var/secrets/${PLAYGROUND_KEY} && test -n "$MY_TOKEN" && echo "my_token: file and env set"`,
          ],
          env: [{ name: "MY_TOKEN", value: reference }],
        },
      ],
    },
  });
}

function user(plane: ControlPlane, dir: string, name: "alice" | "bob"): PlaygroundUser {
  // A day: a playground kept open over lunch still works.
  const token = kubectl(plane, "admin", ["create", "token", name, "-n", USERS_NAMESPACE, "--duration=24h"]);
  const tokenFile = join(dir, `${name}.token`);
  writeFileSync(tokenFile, token.trim(), { mode: 0o600 });
  const podName = `try-${name}`;
  const podFile = join(dir, `${podName}.yaml`);
  writeFileSync(podFile, jobPodYaml(podName, name, `secret:${PLAYGROUND_KEY}`));
  return { name, kubeconfig: plane.kubeconfigs[name], tokenFile, podFile, podName };
}

/** Token files, pod files and the admin's kubeconfig for the printed lines (the cluster is up). */
export function preparePlayground(
  plane: ControlPlane,
  secretsApi: SecretsApi,
  namespace: string,
): Playground {
  const bobForeignPodFile = join(plane.dir, "bob-uses-alice.yaml");
  writeFileSync(bobForeignPodFile, jobPodYaml("bob-uses-alice", "bob", `secret:/alice/${PLAYGROUND_KEY}`));
  const ops = userKubeconfig(plane, ADMIN_USER, [ADMIN_GROUP]);
  kubectl(plane, "admin", [
    "create",
    "rolebinding",
    "playground-admins",
    "-n",
    namespace,
    "--clusterrole=e2e-job-submitter",
    `--group=${ADMIN_GROUP}`,
  ]);
  return {
    namespace,
    kubectl: plane.tools.kubectl,
    secretsApi: { url: secretsApi.url, caFile: secretsApi.caFile },
    alice: user(plane, plane.dir, "alice"),
    bob: user(plane, plane.dir, "bob"),
    bobForeignPodFile,
    ops: { kubeconfig: ops },
  };
}

/**
 * The first line of a user's block: `kubectl` as the cluster's own (a shell function, so the
 * version matches), apolo-secret on PATH, the user's kubeconfig, and for apolo-secret the server,
 * its CA and the user's token (read from its file, so it is not shown).
 */
function sessionLine(p: Playground, kubeconfig: string, tokenFile?: string): string {
  const secrets = tokenFile
    ? ` APOLO_SECRETS_SERVER=${p.secretsApi.url} APOLO_SECRETS_CA_FILE=${p.secretsApi.caFile} APOLO_SECRETS_TOKEN="$(cat ${tokenFile})"`
    : "";
  return `kubectl() { ${p.kubectl} "$@"; }; export PATH=${BIN}:$PATH KUBECONFIG=${kubeconfig}${secrets}`;
}

/** What the webhook made of a pod: its env and its mounts. */
function showPod(p: Playground, pod: string): string {
  return `kubectl -n ${p.namespace} get pod ${pod} -o jsonpath='{.spec.containers[0].env}{"\\n"}{.spec.containers[0].volumeMounts}{"\\n"}'`;
}

function debugLine(p: Playground, container: string): string {
  return `kubectl -n ${p.namespace} debug ${p.alice.podName} --image=busybox -c ${container}`;
}

export interface TryItBlock {
  /** Who runs it and what it shows. */
  title: string;
  /** Shell lines, in order; the first sets up the session (kubectl, PATH, KUBECONFIG, apolo-secret's settings). */
  lines: string[];
}

/** The ready-to-paste blocks, one per user; test/e2e/playground.test.ts runs them. */
export function tryItBlocks(p: Playground): TryItBlock[] {
  const { alice, bob, namespace } = p;
  return [
    {
      title: "alice: her secret, her job pod using it (env MY_TOKEN and a file), what the webhook made of it",
      lines: [
        sessionLine(p, alice.kubeconfig, alice.tokenFile),
        `apolo-secret add ${PLAYGROUND_KEY} alice-s3cr3t && apolo-secret ls`,
        `kubectl -n ${namespace} apply -f ${alice.podFile} && ${showPod(p, alice.podName)}`,
      ],
    },
    {
      title:
        "bob: his own secret and job; a job naming alice's secret and a debug container in her pod are refused",
      lines: [
        sessionLine(p, bob.kubeconfig, bob.tokenFile),
        `apolo-secret add ${PLAYGROUND_KEY} bob-s3cr3t && apolo-secret ls`,
        `kubectl -n ${namespace} apply -f ${bob.podFile} && ${showPod(p, bob.podName)}`,
        `kubectl -n ${namespace} apply -f ${p.bobForeignPodFile}`,
        debugLine(p, "bob-debug"),
      ],
    },
    {
      title: `${ADMIN_USER}, an admin in group ${ADMIN_GROUP}, which the webhook trusts (--trusted-groups): kubectl debug on alice's pod`,
      lines: [
        sessionLine(p, p.ops.kubeconfig),
        `${debugLine(p, "ops-debug")} && kubectl -n ${namespace} get pod ${alice.podName} -o jsonpath='{.spec.ephemeralContainers[*].name}{"\\n"}'`,
      ],
    },
  ];
}

/**
 * Prints the "try it yourself" lines of `make up`. One function on purpose: more ways in (the
 * platform's own CLI, say) are a few more `say` lines or blocks here.
 */
export function printTryItYourself(p: Playground, say: (line?: string) => void): void {
  say("\nTry it yourself: paste one block into a shell (each block is one user's session)");
  for (const block of tryItBlocks(p)) {
    say(`  ${block.title}`);
    for (const line of block.lines) say(`    ${line}`);
  }
}
