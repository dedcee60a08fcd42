// The probe routes every server answers: GET /healthz (alive) and GET /readyz (200, or 503 with
// the reasons). One implementation for the webhook's HTTPS app, the secrets API and the metrics
// port, so their answers cannot drift.

import type { IncomingMessage, ServerResponse } from "node:http";

/** Why the process is not ready; empty when it is. */
export type Readiness = () => readonly string[];

/**
 * A request handler for the probes that passes every other request to `next`: usable as express
 * middleware and in front of a plain node handler.
 */
export function probeRoutes(
  readiness: Readiness,
): (request: IncomingMessage, response: ServerResponse, next: () => void) => void {
  return (request, response, next) => {
    const answer = probeAnswer(request.method, request.url, readiness);
    if (!answer) {
      next();
      return;
    }
    response
      .writeHead(answer.status, {
        "content-type": "text/plain; charset=utf-8",
        "content-length": Buffer.byteLength(answer.text),
      })
      .end(answer.text);
  };
}

/** The probe's status and text, or undefined when the request is not a probe. */
export function probeAnswer(
  method: string | undefined,
  url: string | undefined,
  readiness: Readiness,
): { status: number; text: string } | undefined {
  if (method !== "GET" && method !== "HEAD") return undefined;
  const query = url?.indexOf("?") ?? -1;
  const path = query === -1 ? url : url?.slice(0, query);
  if (path === "/healthz") return { status: 200, text: "ok\n" };
  if (path !== "/readyz") return undefined;
  const waiting = readiness();
  if (waiting.length === 0) return { status: 200, text: "ok\n" };
  return { status: 503, text: `not ready: ${waiting.join(", ")}\n` };
}
