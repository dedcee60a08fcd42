// Metric labels and log fields of a request, from fixed sets only: a label value taken from the
// caller's text (a path, a method) makes one metric series per distinct text, which lets anyone,
// even without a token, grow the server's memory and its /metrics without bound.

const METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The request's method when it is a common one, else "other". */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : "other";
}

/** The matched route's template when it is one of `routes`, else "unmatched". */
export function routeLabel(matched: unknown, routes: readonly string[]): string {
  return typeof matched === "string" && routes.includes(matched) ? matched : "unmatched";
}
