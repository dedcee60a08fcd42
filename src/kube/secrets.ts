// The one home of Secret plumbing: the API paths of Secrets and the Secret type every module
// reads and writes. Names and namespaces are users' text: always path-encoded here, once.

/** A Secret as this project reads and writes it (only the fields it uses). */
export interface Secret {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  type?: string;
  /** Key → base64 value. */
  data?: Record<string, string>;
}

/** One page of a Secret list. */
export interface SecretList {
  items: Secret[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** The Secrets of a namespace, or of every namespace when it is empty or omitted. */
export function secretsPath(namespace?: string): string {
  return namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets` : "/api/v1/secrets";
}

/** One Secret. */
export function secretPath(namespace: string, name: string): string {
  if (namespace === "") throw new Error(`the Secret '${name}' needs a namespace`);
  return `${secretsPath(namespace)}/${encodeURIComponent(name)}`;
}
