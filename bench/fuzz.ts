// `make fuzz`: hostile and generated AdmissionReviews, up to the body limit, at the decoder and the
// plan (decodeReview + admit) and through the review handler. Every answer must be a well-formed
// review; an allowed answer's patch must apply whole to the pod (or there is none) and a second
// pass must change nothing. It reports the worst time per request and how time grows with size
// for each adversarial family. It stops by itself (FUZZ_RUNS, FUZZ_SECONDS) and fails only on a
// wrong answer, never on timing.

import fc from "fast-check";
import fastJsonPatch, { type Operation } from "fast-json-patch";
import { decodeReview } from "../src/admission/decode.js";
import type { AdmissionReviewResponse } from "../src/admission/types.js";
import { admit } from "../src/core/admit.js";
import { SECRET_VOLUMES_ANNOTATION } from "../src/core/file-requests.js";
import type { Policy } from "../src/core/policy.js";
import { MemorySecretIndex } from "../src/core/secret-index.js";
import { createLogger } from "../src/lifecycle/logger.js";
import { createReviewHandler } from "../src/server/review-handler.js";
import { reviewFor } from "../test/support/review.js";

type Json = Record<string, unknown>;

/** The server's default --max-body-bytes: nothing larger reaches the handler. */
const MAX_BODY_BYTES = Number(process.env.FUZZ_MAX_BODY_BYTES ?? 7_340_032);
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 240);
const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const TARGET_BYTES = [16, 64, 256, 1024, 4096, 7000].map((kb) => kb * 1024);
const REPEATS = 3;

const NAMESPACE = "jobs";
const OWNER = "alice";
const STORE = `user--${OWNER}--secrets`;
const KEYS = ["k", "db.pass", "__proto__", "constructor", "ключ"];
const policy: Policy = {
  scope: "user",
  clusterName: "c1",
  trustedUsers: new Set(["platform"]),
  trustedGroups: new Set(),
  trustedControllers: new Set(),
};
const index = new MemorySecretIndex();
index.set(
  NAMESPACE,
  STORE,
  KEYS.filter((key) => key !== "ключ"),
);
const handler = createReviewHandler({
  policy,
  index,
  refresh: undefined,
  logger: createLogger("error", () => {}),
  metrics: undefined,
});
const SUBMITTER = { username: OWNER, groups: [] as string[] };
const started = performance.now();
const elapsedS = () => (performance.now() - started) / 1000;

// ---------------------------------------------------------------------------------------------
// Checking one request

const failures: string[] = [];
let worst = { ms: 0, what: "" };
let longestMessage = 0;
let requests = 0;

function fail(what: string, problem: string): void {
  if (failures.length < 50) failures.push(`${what}: ${problem}`);
}

/** Sends the body as the server would (parse, handle, serialise) and checks the answer. */
function exchange(text: string, what: string): { ms: number; answer: AdmissionReviewResponse | undefined } {
  const t0 = performance.now();
  let handled: ReturnType<typeof handler>;
  try {
    handled = handler(JSON.parse(text));
  } catch (error) {
    fail(what, `the handler threw: ${String(error)}`);
    return { ms: performance.now() - t0, answer: undefined };
  }
  if (handled instanceof Promise) {
    fail(what, "the handler went asynchronous without a store refresher");
    return { ms: performance.now() - t0, answer: undefined };
  }
  const wire = JSON.stringify(handled.body);
  const ms = performance.now() - t0;
  requests++;
  if (ms > worst.ms) worst = { ms, what };
  const body = JSON.parse(wire) as Json;
  if (handled.status === 400 && typeof body.error === "string") return { ms, answer: undefined };
  if (handled.status !== 200) fail(what, `HTTP ${handled.status}`);
  return { ms, answer: body as unknown as AdmissionReviewResponse };
}

/** Well-formed review; a patch applies whole or there is none; a second pass changes nothing. */
function answerProblem(
  answer: AdmissionReviewResponse | undefined,
  uid: string,
  pod: Json | undefined,
  what: string,
): string | undefined {
  if (!answer) return undefined;
  const r = answer.response;
  if (answer.kind !== "AdmissionReview" || typeof answer.apiVersion !== "string")
    return "not an AdmissionReview";
  if (!r || r.uid !== uid) return `response uid ${r?.uid} is not the request's ${uid}`;
  if (typeof r.allowed !== "boolean") return "allowed is not a boolean";
  if (!r.allowed) {
    if (!r.status || typeof r.status.code !== "number" || typeof r.status.message !== "string")
      return "a refusal without status code and message";
    if (r.patch !== undefined) return "a refusal carries a patch";
    longestMessage = Math.max(longestMessage, r.status.message.length);
    return undefined;
  }
  if (r.patch === undefined) return undefined;
  if (r.patchType !== "JSONPatch") return "a patch without patchType JSONPatch";
  if (!pod) return "a patch for a request without a pod";
  let operations: Operation[];
  try {
    operations = JSON.parse(Buffer.from(r.patch, "base64").toString("utf8")) as Operation[];
  } catch {
    return "the patch is not base64 JSON";
  }
  let patched: Json;
  try {
    patched = fastJsonPatch.applyPatch(structuredClone(pod), operations, true, false).newDocument as Json;
  } catch (error) {
    return `the patch does not apply whole: ${String(error)}`;
  }
  const again = exchange(JSON.stringify(reviewFor(patched, `${uid}-2`, SUBMITTER, NAMESPACE)), what);
  const second = again.answer?.response;
  if (!second?.allowed || second.patch !== undefined)
    return `the patched pod is not left alone on a second pass: ${JSON.stringify(second)?.slice(0, 300)}`;
  return undefined;
}

/** The core path without the wire: decode and admit must never throw. */
function checkCore(body: unknown, what: string): void {
  try {
    const decoded = decodeReview(body);
    if (decoded.kind === "review") admit(decoded.request, policy, index);
  } catch (error) {
    fail(what, `decodeReview/admit threw: ${String(error)}`);
  }
}

function run(review: Json, what: string): number {
  const text = JSON.stringify(review);
  checkCore(JSON.parse(text), what);
  const { ms, answer } = exchange(text, what);
  const request = review.request as Json | undefined;
  const uid = typeof request?.uid === "string" ? request.uid : "";
  const object = request?.object;
  const problem = answerProblem(
    answer,
    uid,
    typeof object === "object" && object !== null ? (object as Json) : undefined,
    what,
  );
  if (problem !== undefined) fail(what, problem);
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Adversarial families: each builds a pod from a scale n, grown until the body nears the limit.

function pod(
  containers: Json[],
  options: { annotation?: string; labels?: Json; volumes?: Json[] } = {},
): Json {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "fuzz",
      labels: options.labels ?? { "platform.apolo.us/user": OWNER },
      ...(options.annotation === undefined
        ? {}
        : { annotations: { [SECRET_VOLUMES_ANNOTATION]: options.annotation } }),
    },
    spec: { containers, ...(options.volumes ? { volumes: options.volumes } : {}) },
  };
}
const main = (extra: Json = {}): Json => ({ name: "main", image: "img", ...extra });
const files = (entries: unknown[], containers: Json[] = [main()]) =>
  pod(containers, { annotation: JSON.stringify(entries) });
const envOf = (values: string[]) => values.map((value, i) => ({ name: `E${i}`, value }));
const times = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

const FAMILIES: Record<string, (n: number) => Json> = {
  "slash run, string entry": (n) => files([`secret:k:${"/".repeat(n)}a`]),
  "slash run, object entry": (n) => files([{ uri: "secret:k", mountPath: `${"/".repeat(n)}a` }]),
  "slash run, env reference": (n) => pod([main({ env: envOf([`secret:${"/".repeat(n)}k`]) })]),
  "long key": (n) => pod([main({ env: envOf([`secret:${"k".repeat(n)}`]) })]),
  "deep owner path": (n) => pod([main({ env: envOf([`secret:/${"a/".repeat(n)}k`]) })]),
  "colon run": (n) => files([`secret:${":".repeat(n)}`]),
  "many file entries": (n) => files(times(n, (i) => `secret:k:/f/${i}`)),
  "huge annotation": (n) => pod([main()], { annotation: `["${"x".repeat(n)}"]` }),
  "many containers × 3 references": (n) =>
    pod(times(n, (i) => ({ name: `c${i}`, env: envOf(["secret:k", "secret:db.pass", "plain"]) }))),
  "many bad references": (n) => pod([main({ env: envOf(times(n, () => "secret:a/b")) })]),
  "many missing keys": (n) => pod([main({ env: envOf(times(n, (i) => `secret:missing${i}`)) })]),
  "many foreign store uses": (n) =>
    pod([
      main({
        env: times(n, (i) => ({
          name: `S${i}`,
          valueFrom: { secretKeyRef: { name: `user--u${i}--secrets`, key: "k" } },
        })),
      }),
    ]),
  "existing mounts × 1000 files": (n) =>
    files(
      times(1000, (i) => `secret:k:/s/${i}`),
      [main({ volumeMounts: times(n, (i) => ({ name: "data", mountPath: `/d/${i}` })) })],
    ),
  "files × containers": (n) =>
    files(
      times(100, (i) => `secret:k:/s/${i}`),
      times(n, (i) => ({ name: `c${i}` })),
    ),
  "unknown container × many containers": (n) =>
    files(
      times(20, () => ({ uri: "secret:k", mountPath: "/f", containers: ["nope"] })),
      times(n, (i) => ({ name: `c${i}` })),
    ),
  "huge owner label": (n) =>
    pod([main({ env: envOf(["secret:k"]) })], { labels: { "platform.apolo.us/user": "a".repeat(n) } }),
  "unicode everywhere": (n) =>
    files(
      times(n, (i) => `secret:ключ:/файлы/😀${i}`),
      [main({ env: envOf(times(n, () => "secret:ключ")) }), { name: "контейнер😀" }],
    ),
  "prototype-named keys": (n) =>
    pod(
      [
        main({
          env: [
            { name: "__proto__", value: "secret:__proto__" },
            { name: "constructor", value: "secret:constructor" },
            ...envOf(times(n, (i) => (i % 2 ? "secret:__proto__" : "secret:toString"))),
          ],
        }),
        { name: "__proto__" },
      ],
      {
        // Own properties named like Object.prototype's (a literal `__proto__:` would not be one).
        labels: Object.fromEntries([
          ["platform.apolo.us/user", OWNER],
          ["__proto__", "x"],
          ["constructor", "y"],
          ["toString", "z"],
        ]),
        annotation: JSON.stringify([
          { uri: "secret:constructor", mountPath: "/p/c", containers: ["__proto__"] },
          ...times(Math.min(n, 900), (i) => `secret:__proto__:/p/${i}`),
        ]),
      },
    ),
};

const bytesOf = (n: number, build: (n: number) => Json) =>
  Buffer.byteLength(JSON.stringify(reviewFor(build(n), "u", SUBMITTER, NAMESPACE)));

/** The scale n whose body is about `target` bytes (sizes grow linearly in n), at most the limit. */
function scaleFor(build: (n: number) => Json, target: number): number | undefined {
  const b1 = bytesOf(100, build);
  const b2 = bytesOf(200, build);
  const perUnit = Math.max((b2 - b1) / 100, 1e-9);
  let n = Math.max(1, Math.floor(100 + (target - b1) / perUnit));
  while (n > 1 && bytesOf(n, build) > Math.min(target * 1.05, MAX_BODY_BYTES)) n = Math.floor(n * 0.95);
  return bytesOf(n, build) <= MAX_BODY_BYTES ? n : undefined;
}

interface Row {
  family: string;
  kb: number;
  ms: number;
  usPerKb: number;
  answer: string;
}

function adversarial(): Row[] {
  const rows: Row[] = [];
  for (const [family, build] of Object.entries(FAMILIES)) {
    for (const target of TARGET_BYTES) {
      // Three quarters of the time for the families, the rest for generated reviews.
      if (elapsedS() > SECONDS * 0.75) return rows;
      const n = scaleFor(build, target);
      if (n === undefined) continue;
      const review = reviewFor(build(n), `adv-${rows.length}`, SUBMITTER, NAMESPACE);
      const kb = Buffer.byteLength(JSON.stringify(review)) / 1024;
      const samples = times(REPEATS, () => run(review, `${family} (${kb.toFixed(0)} KB)`)).sort(
        (a, b) => a - b,
      );
      const ms = samples[Math.floor(REPEATS / 2)] ?? 0;
      const { answer } = exchange(JSON.stringify(review), family);
      const r = answer?.response;
      const verdict = r?.allowed
        ? r.patch
          ? "patched"
          : "allowed"
        : `${r?.status?.code} ${r?.status?.message.slice(0, 40)}`;
      rows.push({ family, kb, ms, usPerKb: (ms * 1000) / kb, answer: verdict });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Generated reviews: fast-check pods with hostile strings where user text goes, and arbitrary
// JSON where the decoder expects a shape.

const alphabet = fc.constantFrom(..."secret:/.-_kK0é\u0000\n ".split(""), "😀", "//", "..", "__proto__");
const hostile = fc.string({ unit: alphabet, maxLength: 40 });
const reference = fc.oneof(
  hostile.map((s) => `secret:${s}`),
  fc.constantFrom("secret:k", "secret:/alice/k", "secret://c1/alice/db.pass"),
);
const mountPath = fc.oneof(hostile, fc.constantFrom("/f", "/a/b", "/", "/../x"));
const entry = fc.oneof(
  fc.tuple(reference, mountPath).map(([r, p]) => `${r}:${p}`),
  fc.record(
    {
      uri: reference,
      mountPath,
      containers: fc.array(fc.constantFrom("main", "side", "__proto__", "x"), { maxLength: 3 }),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);
const generatedPod = fc.record({
  labels: fc.dictionary(
    fc.constantFrom("platform.apolo.us/user", "platform.neuromation.io/user", "__proto__", "constructor"),
    fc.oneof(fc.constantFrom(OWNER, "bob", "org--alice"), hostile),
  ),
  annotation: fc.option(
    fc.oneof(
      fc.array(entry, { maxLength: 6 }).map((e) => JSON.stringify(e)),
      hostile,
    ),
    { nil: undefined },
  ),
  env: fc.array(fc.oneof(reference, hostile), { maxLength: 6 }),
  side: fc.boolean(),
  mounts: fc.array(mountPath, { maxLength: 3 }),
});
const generatedReview = fc.oneof(
  { weight: 4, arbitrary: generatedPod.map((g) => ({ g })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((junk) => ({ junk })) },
);

function generated(): number {
  let count = 0;
  const samples = fc.sample(generatedReview, { numRuns: RUNS, seed: SEED });
  for (const sample of samples) {
    if (elapsedS() > SECONDS) break;
    count++;
    if ("junk" in sample) {
      // Arbitrary JSON as the object, then as the whole body.
      const review = reviewFor(pod([main()]), `junk-${count}`, SUBMITTER, NAMESPACE);
      (review.request as Json).object = sample.junk;
      run(review, `generated junk object #${count}`);
      checkCore(sample.junk, `generated junk body #${count}`);
      exchange(JSON.stringify(sample.junk ?? null), `generated junk body #${count}`);
      continue;
    }
    const { g } = sample;
    const containers = [
      main({
        env: envOf(g.env),
        volumeMounts: g.mounts.map((p, i) => ({ name: `v${i}`, mountPath: p })),
      }),
      ...(g.side ? [{ name: "side", image: "img" }] : []),
    ];
    const p = pod(containers, {
      labels: g.labels,
      ...(g.annotation === undefined ? {} : { annotation: g.annotation }),
    });
    run(reviewFor(p, `gen-${count}`, SUBMITTER, NAMESPACE), `generated pod #${count}`);
  }
  return count;
}

// ---------------------------------------------------------------------------------------------

const rows = adversarial();
const generatedCount = generated();

console.log(
  `\nmake fuzz: ${requests} requests in ${elapsedS().toFixed(1)} s (FUZZ_SECONDS ${SECONDS}, FUZZ_RUNS ${RUNS}, seed ${SEED}, body limit ${MAX_BODY_BYTES} bytes)`,
);
console.log(
  `${Object.keys(FAMILIES).length} adversarial families × sizes up to the body limit (median of ${REPEATS}), ${generatedCount} generated reviews\n`,
);
console.log("| family | review KB | ms | µs per KB | answer |");
console.log("| --- | --- | --- | --- | --- |");
for (const row of rows) {
  console.log(
    `| ${row.family} | ${row.kb.toFixed(0)} | ${row.ms.toFixed(1)} | ${row.usPerKb.toFixed(1)} | ${row.answer.replaceAll("|", "\\|")} |`,
  );
}
console.log("\nGrowth (µs per KB at the largest size ÷ at the smallest; about 1 is linear):");
for (const family of Object.keys(FAMILIES)) {
  const own = rows.filter((r) => r.family === family);
  const first = own[0];
  const last = own[own.length - 1];
  if (first && last && own.length > 1)
    console.log(
      `  ${family}: ${(last.usPerKb / first.usPerKb).toFixed(2)} (${first.kb.toFixed(0)} → ${last.kb.toFixed(0)} KB)`,
    );
}
console.log(`\nWorst time for one request: ${worst.ms.toFixed(1)} ms (${worst.what})`);
console.log(`Longest refusal message: ${longestMessage} characters`);
if (failures.length > 0) {
  console.log(`\n${failures.length} wrong answer(s):`);
  for (const failure of failures) console.log(`  ${failure}`);
  process.exitCode = 1;
} else {
  console.log(
    "Every answer was a well-formed AdmissionReview; every patch applied whole and was idempotent.",
  );
}
