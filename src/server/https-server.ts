// HTTPS listener: keep-alive longer than the API server's idle reuse, certificate swaps without
// dropping connections, and a drain that finishes in-flight requests before exit.

import type { RequestListener } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { SecureContextOptions } from "node:tls";

export interface HttpsOptions {
  host: string;
  port: number;
  /** The API server's Go client reuses idle connections for up to 90 s, so keep them longer. */
  keepAliveTimeoutMs: number;
}

export class WebhookHttpsServer {
  readonly #server: Server;
  readonly #options: HttpsOptions;
  #inFlight = 0;

  constructor(app: RequestListener, tls: SecureContextOptions, options: HttpsOptions) {
    this.#options = options;
    this.#server = createServer({ ...tls, minVersion: "TLSv1.2" }, app);
    this.#server.keepAliveTimeout = options.keepAliveTimeoutMs;
    // headersTimeout must exceed keepAliveTimeout, or idle sockets are cut while reused.
    this.#server.headersTimeout = options.keepAliveTimeoutMs + 5_000;
    this.#server.requestTimeout = 60_000;
    this.#server.on("request", (_request, response) => {
      this.#inFlight++;
      response.once("close", () => {
        this.#inFlight--;
      });
    });
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Swaps the certificate for new handshakes; open connections keep theirs. */
  setCertificate(tls: SecureContextOptions): void {
    this.#server.setSecureContext(tls);
  }

  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off("error", reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting connections, lets in-flight requests finish (up to timeoutMs), then closes. */
  drain(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      // close() ends only the connections idle at that moment; keep-alive connections that
      // finish a request later must be closed as they become idle.
      const sweep = setInterval(() => this.#server.closeIdleConnections(), 50);
      const timer = setTimeout(() => {
        this.#server.closeAllConnections();
      }, timeoutMs);
      timer.unref();
      this.#server.close(() => {
        clearInterval(sweep);
        clearTimeout(timer);
        resolve();
      });
      this.#server.closeIdleConnections();
    });
  }
}

/**
 * A server that starts listening with the first certificate it is given and swaps certificates
 * after that: until a certificate exists the process is alive but serves no HTTPS.
 */
export class CertifiedListener {
  readonly #app: RequestListener;
  readonly #options: HttpsOptions;
  readonly #onListening: (port: number) => void;
  #server: WebhookHttpsServer | undefined;
  #listening: Promise<void> | undefined;

  constructor(app: RequestListener, options: HttpsOptions, onListening: (port: number) => void) {
    this.#app = app;
    this.#options = options;
    this.#onListening = onListening;
  }

  use(tls: SecureContextOptions): void {
    if (this.#server) {
      this.#server.setCertificate(tls);
      return;
    }
    const server = new WebhookHttpsServer(this.#app, tls, this.#options);
    this.#server = server;
    this.#listening = server.start().then(this.#onListening, (error: unknown) => {
      // A port that cannot be bound is fatal: the process exits and its supervisor reports it.
      process.stderr.write(
        `error: cannot listen on ${this.#options.host}:${this.#options.port}: ${String(error)}\n`,
      );
      process.exit(1);
    });
  }

  get inFlight(): number {
    return this.#server?.inFlight ?? 0;
  }

  /** Waits for the listener to be up (if it ever started), then drains it. */
  async drain(timeoutMs: number): Promise<void> {
    await this.#listening;
    await this.#server?.drain(timeoutMs);
  }
}
