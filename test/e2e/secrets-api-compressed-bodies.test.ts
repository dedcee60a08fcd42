// Attack 13, through the real secrets API process against the real API server: the in-flight body
// budget (--max-inflight-body-bytes) reserves a request's declared Content-Length, but the JSON
// reader inflates gzip bodies, so a 1.4 KB gzip body that inflates to a 1.3 MB add is accepted
// where the same body sent plainly is refused (429): a platform user can make the API hold about
// a thousand times its budget at once. Also: a corrupt gzip body answers 500 "internal error".

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../cluster/control-plane.js";
import { stopProcess } from "../cluster/processes.js";
import { freshUser, type SecretsApi, startSecretsApi } from "../cluster/secrets-api.js";
import { e2e, freshNamespace, storeName } from "./support.js";

const local = e2e().local;

let secretsApi: SecretsApi;
let namespace: string;
let user: { name: string; token: string };

function post(headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL("/api/v1/secrets", secretsApi.url),
      {
        method: "POST",
        ca: readFileSync(secretsApi.caFile),
        headers: {
          authorization: `Bearer ${user.token}`,
          "content-type": "application/json",
          "content-length": String(body.length),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The store's key names as the API server holds them (none when it does not exist). */
function storedKeys(): string[] {
  if (!local) throw new Error("needs the local control plane");
  try {
    const text = kubectl(local.plane, "admin", [
      "get",
      "secret",
      storeName(user.name),
      "-n",
      namespace,
      "-o",
      "json",
    ]);
    return Object.keys((JSON.parse(text) as { data?: Record<string, string> }).data ?? {});
  } catch {
    return [];
  }
}

/**
 * A plain add whose headers and first bytes are sent and whose rest never is: the API reserves
 * its declared length from the budget until the request ends.
 */
function stalledAdd(): { destroy: () => void } {
  const req = request(new URL("/api/v1/secrets", secretsApi.url), {
    method: "POST",
    ca: readFileSync(secretsApi.caFile),
    headers: {
      authorization: `Bearer ${user.token}`,
      "content-type": "application/json",
      "content-length": String(body.length),
    },
  });
  req.on("error", () => undefined);
  req.write(body.subarray(0, 1000));
  return { destroy: () => req.destroy() };
}

const key = `big_${randomBytes(3).toString("hex")}`;
// 1 MB of value: 1.33 MB of JSON; two of them exceed the smallest budget (2 MiB).
const body = Buffer.from(JSON.stringify({ key, value: Buffer.alloc(1_000_000, 7).toString("base64") }));

describe.runIf(local !== undefined)("attack13: compressed bodies against the real secrets API", () => {
  beforeAll(async () => {
    if (!local) return;
    namespace = await freshNamespace("attack13-gzip");
    // The smallest budget the API accepts: 2 MiB of request bodies in flight.
    secretsApi = await startSecretsApi(local.plane, namespace, {
      ...process.env,
      APOLO_SECRETS_WEBHOOK_MAX_INFLIGHT_BODY_BYTES: String(2 * 1024 * 1024),
    });
    user = freshUser(local.plane, "attack13");
  });

  afterAll(async () => {
    if (local) await stopProcess(local.plane.pidFile, "secrets-api");
  });

  it("with one 1.3 MB add in flight, refuses a second plainly but takes it gzip-compressed", async () => {
    const held = stalledAdd();
    try {
      // Control: once the stalled add holds its reservation, a second plain one is refused (429).
      const deadline = Date.now() + 30_000;
      let plain = await post({}, body);
      while (plain.status !== 429 && Date.now() < deadline) plain = await post({}, body);
      expect(plain.status).toBe(429);
      const before = storedKeys();

      // The same add gzip-compressed reserves 1.4 KB, and the API inflates and holds 1.3 MB.
      const compressed = gzipSync(body);
      expect(compressed.length).toBeLessThan(5_000);
      const other = `gz_${randomBytes(3).toString("hex")}`;
      const gz = gzipSync(Buffer.from(body.toString().replace(key, other)));
      const answer = await post({ "content-encoding": "gzip" }, gz);
      expect([413, 415, 429]).toContain(answer.status);
      expect(storedKeys()).toEqual(before);
    } finally {
      held.destroy();
    }
  });

  it("answers a corrupt gzip body as the caller's mistake (400 or 415), not 500", async () => {
    const answer = await post({ "content-encoding": "gzip" }, Buffer.from("this is not gzip"));
    expect([400, 415]).toContain(answer.status);
    expect(answer.text).not.toContain("internal error");
  });
});
