// For UPDATE of pods/ephemeralcontainers the API server keeps only the ephemeral containers of the
// object it was sent and restores the stored labels and spec after admission, so the owner, the
// volumes and the other containers must be read from the stored pod (`oldObject`), not the sent one.

import type { Pod } from "../admission/types.js";

/** The pod the API server will store: `stored` with the ephemeral containers of `sent`. */
export function podAfterEphemeralUpdate(stored: Pod, sent: Pod): Pod {
  return { ...stored, spec: { ...stored.spec, ephemeralContainers: sent.spec.ephemeralContainers ?? [] } };
}
