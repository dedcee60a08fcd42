// The baseline: a minimal Node HTTPS server that reads the same AdmissionReview, parses it and
// answers allowed: true. What any webhook on this stack pays before doing anything.
// Usage: baseline-server PORT CERT KEY [PATCH_FILE]
// With PATCH_FILE (a base64 JSON Patch) it answers that patch to every review: a no-op webhook
// that mutates like the webhook, so the API server's own cost of applying a patch can be told
// from the webhook's work.

import { readFileSync } from "node:fs";
import { createServer } from "node:https";

const [port, cert, key, patchFile] = process.argv.slice(2);
const patch = patchFile ? readFileSync(patchFile, "utf8").trim() : undefined;
const server = createServer(
  { cert: readFileSync(cert as string), key: readFileSync(key as string) },
  (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        apiVersion: string;
        request: { uid: string };
      };
      const body = JSON.stringify({
        apiVersion: review.apiVersion,
        kind: "AdmissionReview",
        response: patch
          ? { uid: review.request.uid, allowed: true, patchType: "JSONPatch", patch }
          : { uid: review.request.uid, allowed: true },
      });
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
server.listen(Number(port), "127.0.0.1", () => process.stdout.write(`baseline listening on ${port}\n`));
