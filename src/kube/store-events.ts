// What the store cache tells its owner (short, value-free descriptions) and answers on a miss.

export type StoreCacheEvent =
  | { kind: "synced"; scope: string; selector: string; stores: number }
  | { kind: "watch-error"; scope: string; selector: string; error: string; retryInMs: number }
  | { kind: "relist"; scope: string; selector: string; reason: string }
  /** A Secret named like a store that no selector matches: treated as absent. */
  | { kind: "unlabelled-store"; namespace: string; store: string };

export type StoreCacheEventSink = ((event: StoreCacheEvent) => void) | undefined;

export type LookupResult = "found" | "absent" | "error" | "timeout";

/** The first line of an error's message: enough to log, never a multi-line server answer. */
export function firstLine(error: unknown): string {
  return error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
}
