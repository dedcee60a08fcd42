// The floor: the least JavaScript that gives the webhook's answers to the bench pods. It parses the
// review like the baseline, then finds the `secret:` references, writes the same JSON Patch,
// warning and audit annotations, one log line per request (batched to stdout, like the webhook)
// and a count and a duration bucket per request; it checks nothing (no owner rule, no grammar, no
// bounds, no store). The bench checks that its answers are byte for byte the webhook's, so the
// gap between the baseline and the floor is what the job's output costs on this stack, and the
// gap between the floor and the webhook is what the webhook's checks and structure cost.
// Never serve it: it trusts every byte it reads.
// Usage: floor-server PORT CERT KEY (run by Node itself, type stripping: no loader).

import { readFileSync } from "node:fs";
import { createServer } from "node:https";

const [port, cert, key] = process.argv.slice(2);
const STORE = "user--bench--secrets";
const VOLUME = "apolo-secrets-bench";

interface EnvVar {
  name: string;
  value?: string;
}
interface Review {
  apiVersion: string;
  request: {
    uid: string;
    namespace: string;
    operation: string;
    userInfo: { username: string };
    object: {
      metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: { containers: Array<{ env?: EnvVar[] }> };
    };
  };
}

let pending: string[] = [];
let timer: NodeJS.Timeout | undefined;
function flush(): void {
  timer = undefined;
  const text = pending.join("");
  pending = [];
  process.stdout.write(text);
}

const counts = new Map<string, number>();
const buckets = new Float64Array(16);

// The webhook's own shortcuts, so that the floor does no work the webhook has already removed: the
// patch's base64 through one kept buffer, the patch set into the answer's text instead of
// scanned by JSON.stringify, the log's time formatted once per millisecond.
let scratch = Buffer.alloc(0);
function base64(text: string): string {
  if (scratch.length < text.length * 3) scratch = Buffer.allocUnsafeSlow(text.length * 6);
  return scratch.toString("base64", 0, scratch.write(text, 0, "utf8"));
}

const PATCH_MARK = '"patch":"';
function answerText(apiVersion: string, response: Record<string, unknown>, patch: string | undefined) {
  const text = JSON.stringify({ apiVersion, kind: "AdmissionReview", response });
  if (patch === undefined) return text;
  const at = text.indexOf(PATCH_MARK) + PATCH_MARK.length;
  return text.slice(0, at) + patch + text.slice(at);
}

let clockMs = -1;
let clockText = "";
function isoNow(): string {
  const now = Date.now();
  if (now !== clockMs) {
    clockMs = now;
    clockText = new Date(now).toISOString();
  }
  return clockText;
}

/** The file references of the platform's annotation, as the webhook mounts them. */
function fileMounts(files: string, used: string[]) {
  return (JSON.parse(files) as string[]).map((file) => {
    const [, name, path] = file.split(":");
    used.push(name as string);
    return { name: VOLUME, mountPath: path, subPath: name, readOnly: true };
  });
}

function envOperations(review: Review, used: string[]) {
  const operations: unknown[] = [];
  const containers = review.request.object.spec.containers;
  for (let c = 0; c < containers.length; c++) {
    const env = containers[c]?.env ?? [];
    for (let i = 0; i < env.length; i++) {
      const value = env[i]?.value;
      if (value === undefined || !value.startsWith("secret:")) continue;
      const name = value.slice(7);
      used.push(name);
      const secretKeyRef = { name: STORE, key: name };
      const path = `/spec/containers/${c}/env/${i}`;
      operations.push({ op: "replace", path, value: { name: env[i]?.name, valueFrom: { secretKeyRef } } });
    }
  }
  return operations;
}

function answer(review: Review): string {
  const started = process.hrtime.bigint();
  const { request } = review;
  const { metadata } = request.object;
  const owner = metadata.labels?.["platform.apolo.us/user"];
  const used: string[] = [];
  const operations = envOperations(review, used);
  const files = metadata.annotations?.["platform.apolo.us/secret-volumes"];
  const response: Record<string, unknown> = { uid: request.uid, allowed: true };
  let warnings: string[] | undefined;
  if (files !== undefined) {
    const mounts = fileMounts(files, used);
    const volume = { name: VOLUME, secret: { secretName: STORE, defaultMode: 256 } };
    operations.push({ op: "add", path: "/spec/volumes", value: [volume] });
    operations.push({ op: "add", path: "/spec/containers/0/volumeMounts", value: mounts });
    warnings = [
      `${mounts.length} secret file(s) mounted with subPath: a running container does not see later changes to the secret; restart the job to pick them up`,
    ];
  }
  const patch = operations.length > 0 ? base64(JSON.stringify(operations)) : undefined;
  if (patch !== undefined) {
    response.patchType = "JSONPatch";
    response.patch = "";
  }
  if (warnings) response.warnings = warnings;
  const reason = operations.length > 0 ? "mutated" : "unchanged";
  const keys = [...new Set(used)].sort().join(",");
  response.auditAnnotations =
    owner === undefined ? { decision: "allowed", reason } : { decision: "allowed", reason, owner, keys };
  const text = answerText(review.apiVersion, response, patch);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  counts.set(reason, (counts.get(reason) ?? 0) + 1);
  const bucket = Math.min(15, Math.floor(seconds * 1e4));
  buckets[bucket] = (buckets[bucket] ?? 0) + 1;
  const line = {
    time: isoNow(),
    level: "info",
    msg: "admission",
    uid: request.uid,
    namespace: request.namespace,
    pod: metadata.name,
    operation: request.operation,
    user: request.userInfo.username,
    owner,
    decision: "allowed",
    reason,
    durationMs: Math.round(seconds * 1e6) / 1e3,
  };
  pending.push(`${JSON.stringify(line)}\n`);
  if (timer === undefined) timer = setTimeout(flush, 50);
  return text;
}

// The HTTP part is the baseline server's, line for line and on purpose: both pay the same for
// TLS, HTTP and the body, so the gap between them is the answer's work alone. Each server is one
// self-contained file that Node runs without a loader.
const server = createServer(
  { cert: readFileSync(cert as string), key: readFileSync(key as string) },
  (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = answer(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Review);
      response.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
      });
      response.end(body);
    });
  },
);
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.listen(Number(port), "127.0.0.1", () => process.stdout.write(`floor listening on ${port}\n`));
