// The bench's floor server (bench/floor-server.ts) stands for "the webhook's output without its
// checks" only while it answers the bench pods byte for byte like the webhook and logs a line per
// request. `make bench` checks the answers again before timing; this catches a drift in `make test`.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BENCH_KEYS, BENCH_OWNER, BENCH_POLICY, PODS, review } from "../../bench/pods.js";
import { reviewJson } from "../../src/admission/respond.js";
import { MemorySecretIndex } from "../../src/core/secret-index.js";
import { createLogger } from "../../src/lifecycle/logger.js";
import { createReviewHandler } from "../../src/server/review-handler.js";
import { freePort } from "../cluster/processes.js";
import { createCa, issueCert, type TestCa } from "../support/certs.js";
import { postJson } from "../support/https-client.js";

const FLOOR = join(import.meta.dirname, "../../bench/floor-server.ts");

let dir: string;
let ca: TestCa;
let floor: ChildProcess;
let url: string;
let output = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bench-floor-"));
  ca = createCa(dir);
  const cert = issueCert(ca, { name: "floor", commonName: "floor", ips: ["127.0.0.1"], usage: "server" });
  const port = await freePort();
  url = `https://127.0.0.1:${port}/mutate`;
  // Node runs the TypeScript file itself, as `make bench` does.
  floor = spawn(process.execPath, [FLOOR, String(port), cert.certFile, cert.keyFile], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  floor.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 10_000;
  while (!output.includes("floor listening")) {
    if (Date.now() > deadline || floor.exitCode !== null) throw new Error(`the floor server did not start`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});

afterAll(() => {
  floor?.kill();
  rmSync(dir, { recursive: true, force: true });
});

function webhookAnswer(body: unknown): string {
  const index = new MemorySecretIndex();
  index.set("bench", `user--${BENCH_OWNER}--secrets`, BENCH_KEYS);
  const handle = createReviewHandler({
    policy: BENCH_POLICY,
    index,
    refresh: undefined,
    logger: createLogger("info", () => undefined),
    metrics: undefined,
  });
  const answer = handle(body);
  if (answer instanceof Promise || !("response" in answer.body)) throw new Error("no review answered");
  return reviewJson(answer.body);
}

describe("the bench's floor server", () => {
  for (const [name, pod] of Object.entries(PODS)) {
    it(`answers the ${name} pod exactly like the webhook`, async () => {
      const body = review(pod, `floor-${name}`);
      const answer = await postJson(url, body, { ca: ca.pem });
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(webhookAnswer(JSON.parse(JSON.stringify(body))));
    });
  }

  it("writes one admission log line per request", async () => {
    // Lines leave in batches (every 50 ms): wait for this request's line, then for any repeat.
    await postJson(url, review(PODS.typical, "floor-log"), { ca: ca.pem });
    const mine = () => output.split("\n").filter((line) => line.includes('"uid":"floor-log"'));
    const deadline = Date.now() + 5_000;
    while (mine().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mine()).toHaveLength(1);
    expect(JSON.parse(mine()[0] ?? "{}")).toMatchObject({
      msg: "admission",
      reason: "mutated",
      owner: "bench",
      decision: "allowed",
    });
  });
});
