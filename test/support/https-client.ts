// A small HTTPS client for tests: JSON in, JSON out, and the certificate the server presented.

import { type Agent, request } from "node:https";
import type { TLSSocket } from "node:tls";

export interface HttpsAnswer {
  status: number;
  body: unknown;
  text: string;
  /** SHA-256 fingerprint of the server certificate seen on this connection. */
  fingerprint: string | undefined;
}

export function postJson(
  url: string,
  payload: unknown,
  options: {
    ca: string | string[];
    agent?: Agent;
    raw?: string | Buffer;
    method?: string;
    /** A client certificate and key (PEM) to present. */
    cert?: string | Buffer;
    key?: string | Buffer;
  },
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const body = options.raw ?? JSON.stringify(payload);
    const req = request(
      url,
      {
        method: options.method ?? "POST",
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        agent: options.agent,
        headers:
          options.method === "GET"
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const fingerprint = socket.getPeerCertificate?.()?.fingerprint256;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text, fingerprint });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (options.method === "GET") req.end();
    else req.end(body);
  });
}

export function getText(url: string, ca: string | string[]): Promise<HttpsAnswer> {
  return postJson(url, undefined, { ca, method: "GET" });
}
