// The life of a server process, one sequence for `serve` and `api`: start → ready when every
// condition holds → serve → on SIGTERM: not ready at once but still answering for the shutdown
// delay (endpoints take a moment to drop the pod, and a webhook's 503 is a failed call) → close
// and drain the listener → stop every dependency, the last started first. Failures reach the
// caller as a rejected promise; exiting is the entry point's business.

import { describeError, type Logger } from "./logger.js";

/** The serving listener, as the shutdown sees it. */
export interface Drainable {
  /** Stops accepting connections, lets in-flight requests finish (up to timeoutMs), then closes. */
  drain(timeoutMs: number): Promise<void>;
  readonly inFlight: number;
}

/** Where signals come from: the process, or a test's EventEmitter. */
export interface SignalSource {
  on(signal: string, listener: () => void): unknown;
  off(signal: string, listener: () => void): unknown;
}

export interface LifecycleOptions {
  shutdownDelayMs: number;
  drainTimeoutMs: number;
  logger: Logger;
  /** Signals that start the shutdown while run() is under way (none: only stop() does). */
  signals?: readonly string[];
  signalSource?: SignalSource;
  /** Waits out the shutdown delay; a test passes one that resolves on its cue. */
  wait?: (ms: number) => Promise<void>;
}

interface Dependency {
  name: string;
  stop: () => void | Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ServerLifecycle {
  readonly #options: LifecycleOptions;
  readonly #conditions: { reason: string; met: () => boolean }[] = [];
  readonly #dependencies: Dependency[] = [];
  readonly #stopRequested: Promise<string>;
  readonly #failed: Promise<never>;
  #requestStop: (reason: string) => void = () => {};
  #fail: (error: unknown) => void = () => {};
  #stopping = false;

  constructor(options: LifecycleOptions) {
    this.#options = options;
    this.#stopRequested = new Promise((resolve) => {
      this.#requestStop = resolve;
    });
    this.#failed = new Promise<never>((_resolve, reject) => {
      this.#fail = reject;
    });
    // A failure after run() has finished has no one left to tell; it must not crash the process.
    this.#failed.catch(() => {});
  }

  /** Not ready until `met()` holds; `/readyz` says `reason` meanwhile ("certificate not loaded"). */
  requireReady(reason: string, met: () => boolean): void {
    this.#conditions.push({ reason, met });
  }

  /** Why the process is not ready (unmet conditions, then "shutting down"); empty when ready. */
  readonly readiness = (): string[] => [
    ...this.#conditions.filter((condition) => !condition.met()).map((condition) => condition.reason),
    ...(this.#stopping ? ["shutting down"] : []),
  ];

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Stopped after the drain (or after a failure), in the reverse order of registration. */
  onStop(name: string, stop: () => void | Promise<void>): void {
    this.#dependencies.push({ name, stop });
  }

  /** A running part failed (a port that cannot be bound): run() stops everything and rejects. */
  fail(error: unknown): void {
    this.#fail(error);
  }

  /** Starts the shutdown, as SIGTERM does; readiness turns false at once. Later calls are ignored. */
  stop(reason: string): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#requestStop(reason);
  }

  /**
   * Runs `start`, serves until stop() or a signal, then shuts down in order. Resolves once all has
   * stopped; rejects with the failure of `start` or of a running part (after stopping what had
   * started), or when the drain or a dependency's stop failed.
   */
  async run(start: () => Promise<Drainable>): Promise<void> {
    const removeSignals = this.#listenForSignals();
    try {
      const server = await this.#startOrUnwind(start);
      const reason = await this.#serveUntilStop();
      await this.#shutDown(server, reason);
    } finally {
      removeSignals();
    }
  }

  #listenForSignals(): () => void {
    const source = this.#options.signalSource ?? process;
    const listeners = (this.#options.signals ?? []).map((signal) => {
      const listener = () => this.stop(signal);
      source.on(signal, listener);
      return () => source.off(signal, listener);
    });
    return () => {
      for (const remove of listeners) remove();
    };
  }

  async #startOrUnwind(start: () => Promise<Drainable>): Promise<Drainable> {
    try {
      return await Promise.race([start(), this.#failed]);
    } catch (error) {
      await this.#stopDependencies();
      throw error;
    }
  }

  async #serveUntilStop(): Promise<string> {
    try {
      return await Promise.race([this.#stopRequested, this.#failed]);
    } catch (error) {
      this.#stopping = true;
      await this.#stopDependencies();
      throw error;
    }
  }

  async #shutDown(server: Drainable, reason: string): Promise<void> {
    const { logger, shutdownDelayMs, drainTimeoutMs } = this.#options;
    logger.info("shutting down: not ready, still answering", { signal: reason, delayMs: shutdownDelayMs });
    await (this.#options.wait ?? sleep)(shutdownDelayMs);
    const inFlightAtDrain = server.inFlight;
    const drained = await server.drain(drainTimeoutMs).then(
      () => undefined,
      (error: unknown) => new Error(`draining the listener failed: ${describeError(error)}`),
    );
    const problems = await this.#stopDependencies();
    logger.info("stopped", { inFlightAtDrain });
    if (drained) throw drained;
    if (problems.length > 0) throw new Error(`stopping failed: ${problems.join("; ")}`);
  }

  /** Stops every dependency (each one even when an earlier one fails); returns the failures. */
  async #stopDependencies(): Promise<string[]> {
    const problems: string[] = [];
    for (const dependency of this.#dependencies.splice(0).reverse()) {
      try {
        await dependency.stop();
      } catch (error) {
        const problem = `${dependency.name}: ${describeError(error)}`;
        this.#options.logger.error("stopping failed", { dependency: dependency.name, error: problem });
        problems.push(problem);
      }
    }
    return problems;
  }
}
