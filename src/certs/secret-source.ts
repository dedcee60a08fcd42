// Serving certificate read from a Secret through the API (tls.crt, tls.key), polled: no volume
// sync delay, and a pod can start before the Secret exists (it is simply not ready yet).

import { type KubeClient, KubeError } from "../kube/api-client.js";
import { type Secret, secretPath } from "../kube/secrets.js";

export interface SecretCertificateEvents {
  onPair(cert: Buffer, key: Buffer): void;
  onError(error: string): void;
}

export class SecretCertificateSource {
  readonly #api: KubeClient;
  readonly #namespace: string;
  readonly #name: string;
  readonly #intervalMs: number;
  readonly #events: SecretCertificateEvents;
  #timer: NodeJS.Timeout | undefined;
  #lastVersion: string | undefined;

  constructor(
    api: KubeClient,
    namespace: string,
    name: string,
    intervalMs: number,
    events: SecretCertificateEvents,
  ) {
    this.#api = api;
    this.#namespace = namespace;
    this.#name = name;
    this.#intervalMs = intervalMs;
    this.#events = events;
  }

  start(): void {
    const tick = () => {
      void this.poll().finally(() => {
        this.#timer = setTimeout(tick, this.#intervalMs);
        this.#timer.unref();
      });
    };
    tick();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }

  async poll(): Promise<void> {
    try {
      const secret = await this.#api.request<Secret>("GET", secretPath(this.#namespace, this.#name));
      const version = secret.metadata?.resourceVersion;
      if (version !== undefined && version === this.#lastVersion) return;
      const cert = secret.data?.["tls.crt"];
      const key = secret.data?.["tls.key"];
      if (!cert || !key)
        throw new Error(`Secret ${this.#namespace}/${this.#name} has no tls.crt and tls.key yet`);
      this.#lastVersion = version;
      this.#events.onPair(Buffer.from(cert, "base64"), Buffer.from(key, "base64"));
    } catch (error) {
      const text =
        error instanceof KubeError
          ? `reading Secret ${this.#namespace}/${this.#name}: HTTP ${error.status}`
          : error instanceof Error
            ? error.message
            : String(error);
      this.#events.onError(text);
    }
  }
}
