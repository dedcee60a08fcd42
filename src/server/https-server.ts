// HTTPS listener: keep-alive longer than the API server's idle reuse, certificate swaps without
// dropping connections, optional client-certificate authentication of the caller (the API
// server), and a drain that finishes in-flight requests before exit.

import type { RequestListener } from "node:http";
import { createServer, type Server } from "node:https";
import type { SecureContextOptions, TLSSocket } from "node:tls";
import { listen } from "../lifecycle/listen.js";

export interface HttpsOptions {
  host: string;
  port: number;
  /** The API server's Go client reuses idle connections for up to 90 s, so keep them longer. */
  keepAliveTimeoutMs: number;
  /**
   * Require a client certificate issued by the CA given to `trustClients` (checked in the TLS
   * handshake: a caller without one gets no HTTP answer at all), and, when `allowedNames` is not
   * empty, one whose subject CN is listed.
   */
  clientAuth?: { allowedNames: readonly string[] } | undefined;
  /** Called for each connection refused: a failed handshake, or a client name not allowed. */
  onRefused?: (reason: "handshake" | "client-name") => void;
  /** Open connections accepted at once (--max-connections); beyond it new ones are closed at once. */
  maxConnections?: number | undefined;
}

/** The serving pair, plus the CA of client certificates when they are required. */
export interface ServingContext {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer | undefined;
}

export class WebhookHttpsServer {
  readonly #server: Server;
  readonly #options: HttpsOptions;
  #inFlight = 0;

  constructor(app: RequestListener, tls: SecureContextOptions, options: HttpsOptions) {
    this.#options = options;
    const clientAuth = options.clientAuth;
    this.#server = createServer(
      {
        ...tls,
        minVersion: "TLSv1.2",
        // An unfinished handshake holds memory; an honest client finishes in well under a second.
        handshakeTimeout: 10_000,
        ...(clientAuth ? { requestCert: true, rejectUnauthorized: true } : {}),
      },
      app,
    );
    this.#server.on("tlsClientError", () => options.onRefused?.("handshake"));
    if (clientAuth && clientAuth.allowedNames.length > 0) {
      const allowed = new Set(clientAuth.allowedNames);
      // Runs after the handshake verified the chain and before any request byte is parsed.
      this.#server.on("secureConnection", (socket: TLSSocket) => {
        const cn = socket.getPeerCertificate().subject?.CN;
        const names = Array.isArray(cn) ? cn : cn === undefined ? [] : [cn];
        if (names.length === 1 && allowed.has(names[0] as string)) return;
        options.onRefused?.("client-name");
        socket.destroy();
      });
    }
    this.#server.keepAliveTimeout = options.keepAliveTimeoutMs;
    // headersTimeout must exceed keepAliveTimeout, or idle sockets are cut while reused.
    this.#server.headersTimeout = options.keepAliveTimeoutMs + 5_000;
    // Just above the API server's longest webhook timeout (30 s): a stalled body is cut soon after.
    this.#server.requestTimeout = 35_000;
    if (options.maxConnections !== undefined) this.#server.maxConnections = options.maxConnections;
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

  /** Resolves with the bound port; rejects "cannot listen on HOST:PORT: …". */
  start(): Promise<number> {
    return listen(this.#server, this.#options.host, this.#options.port);
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
 * after that: until a certificate exists the process is alive but serves no HTTPS. A port that
 * cannot be bound goes to `onError` (the lifecycle's `fail`), since no caller is waiting then.
 */
export class CertifiedListener {
  readonly #app: RequestListener;
  readonly #options: HttpsOptions;
  readonly #onListening: (port: number) => void;
  readonly #onError: (error: Error) => void;
  #server: WebhookHttpsServer | undefined;
  #listening: Promise<void> | undefined;
  #serving: { cert: Buffer; key: Buffer } | undefined;
  #clientCa: Buffer | undefined;
  #bound = false;

  constructor(
    app: RequestListener,
    options: HttpsOptions,
    onListening: (port: number) => void,
    onError: (error: Error) => void,
  ) {
    this.#app = app;
    this.#options = options;
    this.#onListening = onListening;
    this.#onError = onError;
  }

  /** The serving pair: the first one starts the listener (once the client CA, if required, is in). */
  use(serving: { cert: Buffer; key: Buffer }): void {
    this.#serving = serving;
    this.#apply();
  }

  /** The CA bundle of accepted client certificates (with `clientAuth`); swapped like the certificate. */
  trustClients(ca: Buffer): void {
    this.#clientCa = ca;
    this.#apply();
  }

  #apply(): void {
    const serving = this.#serving;
    if (!serving) return;
    // With client authentication required, never listen without the CA that decides who may call.
    if (this.#options.clientAuth && !this.#clientCa) return;
    const tls: ServingContext = { ...serving, ...(this.#clientCa ? { ca: this.#clientCa } : {}) };
    if (this.#server) {
      this.#server.setCertificate(tls);
      return;
    }
    const server = new WebhookHttpsServer(this.#app, tls, this.#options);
    this.#server = server;
    this.#listening = server.start().then(
      (port) => {
        this.#bound = true;
        this.#onListening(port);
      },
      (error: unknown) => {
        // Not listening: nothing to drain.
        this.#server = undefined;
        this.#onError(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  get inFlight(): number {
    return this.#server?.inFlight ?? 0;
  }

  /** True once the HTTPS port is bound: a certificate loaded a moment earlier serves nothing yet. */
  get listening(): boolean {
    return this.#bound;
  }

  /** Waits for the listener to be up (if it ever started), then drains it. */
  async drain(timeoutMs: number): Promise<void> {
    await this.#listening;
    await this.#server?.drain(timeoutMs);
  }
}
