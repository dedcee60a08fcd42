// Serving certificate read from a Secret through the API (tls.crt, tls.key), polled: no volume
// sync delay, and a pod can start before the Secret exists (it is simply not ready yet).

import { ApiException, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";

export interface SecretCertificateEvents {
  onPair(cert: Buffer, key: Buffer): void;
  onError(error: string): void;
}

export class SecretCertificateSource {
  readonly #api: CoreV1Api;
  readonly #namespace: string;
  readonly #name: string;
  readonly #intervalMs: number;
  readonly #events: SecretCertificateEvents;
  #timer: NodeJS.Timeout | undefined;
  #lastVersion: string | undefined;
  #lastError: string | undefined;

  constructor(
    kubeConfig: KubeConfig,
    namespace: string,
    name: string,
    intervalMs: number,
    events: SecretCertificateEvents,
  ) {
    this.#api = kubeConfig.makeApiClient(CoreV1Api);
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
      const secret = await this.#api.readNamespacedSecret({ name: this.#name, namespace: this.#namespace });
      const version = secret.metadata?.resourceVersion;
      if (version !== undefined && version === this.#lastVersion) return;
      const cert = secret.data?.["tls.crt"];
      const key = secret.data?.["tls.key"];
      if (!cert || !key)
        throw new Error(`Secret ${this.#namespace}/${this.#name} has no tls.crt and tls.key yet`);
      this.#lastVersion = version;
      this.#lastError = undefined;
      this.#events.onPair(Buffer.from(cert, "base64"), Buffer.from(key, "base64"));
    } catch (error) {
      const text =
        error instanceof ApiException
          ? `reading Secret ${this.#namespace}/${this.#name}: HTTP ${error.code}`
          : error instanceof Error
            ? error.message
            : String(error);
      // Report each distinct problem once, not on every poll.
      if (text !== this.#lastError) this.#events.onError(text);
      this.#lastError = text;
    }
  }
}
