// Keeps the webhook's own TLS working without cert-manager: every replica reconciles the one
// certificate Secret (optimistic concurrency: a conflict means another replica won; read again)
// and the caBundle of the webhook configuration. No leader election is needed.

import { type KubeClient, KubeError } from "../kube/api-client.js";
import { type Secret, secretPath, secretsPath } from "../kube/secrets.js";
import {
  applyRotation,
  planRotation,
  type RotationPolicy,
  secretFromState,
  stateFromSecret,
} from "./rotation.js";

export interface RotatorOptions {
  namespace: string;
  secretName: string;
  /** MutatingWebhookConfiguration whose webhooks get the caBundle; empty leaves it alone. */
  webhookConfigurationName: string;
  policy: RotationPolicy;
  intervalMs: number;
  onEvent?: (event: RotatorEvent) => void;
}

export type RotatorEvent =
  | { kind: "rotated"; steps: string }
  | { kind: "bundle-injected"; webhooks: number; cas: number }
  | { kind: "conflict" }
  | { kind: "error"; error: string };

interface WebhookConfiguration {
  webhooks?: Array<{ name: string; clientConfig: { caBundle?: string } }>;
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
}

export class CertificateRotator {
  readonly #api: KubeClient;
  readonly #options: RotatorOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(api: KubeClient, options: RotatorOptions) {
    this.#api = api;
    this.#options = options;
  }

  start(): void {
    const tick = () => {
      this.#running = this.reconcile()
        .catch((error: unknown) => this.#options.onEvent?.({ kind: "error", error: errorText(error) }))
        .finally(() => {
          this.#timer = setTimeout(tick, this.#options.intervalMs);
          this.#timer.unref();
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass: bring the Secret up to date, then the caBundle. */
  async reconcile(now = new Date()): Promise<void> {
    const { namespace, secretName, policy } = this.#options;
    const path = secretPath(namespace, secretName);
    let secret: Secret | undefined;
    try {
      secret = await this.#api.request<Secret>("GET", path);
    } catch (error) {
      if (!(error instanceof KubeError && error.status === 404)) throw error;
    }
    const state = stateFromSecret(secret?.data, secret?.metadata?.annotations);
    const steps = planRotation(state, now, policy);
    let bundle = state.bundle;
    if (steps.length > 0) {
      const next = await applyRotation(state, steps, now, policy);
      const { data, annotations } = secretFromState(next);
      const body: Secret = {
        metadata: {
          name: secretName,
          namespace,
          resourceVersion: secret?.metadata?.resourceVersion,
          labels: { ...secret?.metadata?.labels, "app.kubernetes.io/managed-by": "apolo-secrets-webhook" },
          annotations: {
            ...Object.fromEntries(
              Object.entries(secret?.metadata?.annotations ?? {}).filter(
                ([k]) => !k.startsWith("secrets.apolo.us/"),
              ),
            ),
            ...annotations,
          },
        },
        type: "Opaque",
        data,
      };
      try {
        if (secret) await this.#api.request("PUT", path, { body });
        else
          await this.#api.request("POST", secretsPath(namespace), {
            body: { apiVersion: "v1", kind: "Secret", ...body },
          });
      } catch (error) {
        // Another replica wrote first: its result is as good as ours; the next pass reads it.
        if (error instanceof KubeError && (error.status === 409 || error.status === 422)) {
          this.#options.onEvent?.({ kind: "conflict" });
          return;
        }
        throw error;
      }
      this.#options.onEvent?.({ kind: "rotated", steps: steps.join(",") });
      bundle = next.bundle;
    }
    await this.#injectBundle(bundle);
  }

  async #injectBundle(bundle: readonly string[]): Promise<void> {
    const name = this.#options.webhookConfigurationName;
    if (!name || bundle.length === 0) return;
    const caBundle = Buffer.from(`${bundle.join("\n")}\n`).toString("base64");
    const path = `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${encodeURIComponent(name)}`;
    const configuration = await this.#api.request<WebhookConfiguration>("GET", path);
    const operations = (configuration.webhooks ?? []).flatMap((webhook, index: number) =>
      webhook.clientConfig.caBundle === caBundle
        ? []
        : [
            { op: "test", path: `/webhooks/${index}/name`, value: webhook.name },
            { op: "add", path: `/webhooks/${index}/clientConfig/caBundle`, value: caBundle },
          ],
    );
    if (operations.length === 0) return;
    await this.#api.request("PATCH", path, { body: operations, contentType: "application/json-patch+json" });
    this.#options.onEvent?.({ kind: "bundle-injected", webhooks: operations.length / 2, cas: bundle.length });
  }
}
