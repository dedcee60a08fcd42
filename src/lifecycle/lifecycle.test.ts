import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { type Drainable, ServerLifecycle } from "./lifecycle.js";
import { createLogger } from "./logger.js";

/** A lifecycle whose shutdown delay ends when the test says, recording every step in `steps`. */
function harness(options: { signals?: string[]; signalSource?: EventEmitter } = {}) {
  const steps: string[] = [];
  const lines: string[] = [];
  let endDelay: () => void = () => {};
  let delayStarted: () => void = () => {};
  const delaying = new Promise<void>((resolve) => {
    delayStarted = resolve;
  });
  const lifecycle = new ServerLifecycle({
    shutdownDelayMs: 5_000,
    drainTimeoutMs: 7_000,
    logger: createLogger("debug", (line) => lines.push(line)),
    ...options,
    wait: (ms) => {
      steps.push(`wait ${ms}`);
      delayStarted();
      return new Promise((resolve) => {
        endDelay = resolve;
      });
    },
  });
  const server: Drainable & { answering: boolean } = {
    answering: true,
    inFlight: 3,
    drain: async (timeoutMs) => {
      steps.push(`drain ${timeoutMs} (readiness: ${lifecycle.readiness().join(", ")})`);
      server.answering = false;
    },
  };
  return { lifecycle, server, steps, lines, delaying, endDelay: () => endDelay() };
}

describe("ServerLifecycle", () => {
  it("on stop: not ready at once, still answering through the delay, then drain, then dependencies last-started-first", async () => {
    const { lifecycle, server, steps, lines, delaying, endDelay } = harness();
    const run = lifecycle.run(async () => {
      lifecycle.onStop("Kubernetes client", () => void steps.push("stop Kubernetes client"));
      lifecycle.onStop("store cache", async () => void steps.push("stop store cache"));
      lifecycle.onStop("metrics port", () => void steps.push("stop metrics port"));
      return server;
    });
    expect(lifecycle.readiness()).toEqual([]);

    lifecycle.stop("SIGTERM");
    expect(lifecycle.readiness()).toEqual(["shutting down"]);
    await delaying;
    // Inside the delay: not ready, the listener not drained, nothing stopped.
    expect(steps).toEqual(["wait 5000"]);
    expect(server.answering).toBe(true);
    expect(lifecycle.readiness()).toEqual(["shutting down"]);

    endDelay();
    await run;
    expect(steps).toEqual([
      "wait 5000",
      "drain 7000 (readiness: shutting down)",
      "stop metrics port",
      "stop store cache",
      "stop Kubernetes client",
    ]);
    const messages = lines.map((line) => JSON.parse(line) as { msg: string; signal?: string });
    expect(messages.map((line) => line.msg)).toEqual([
      "shutting down: not ready, still answering",
      "stopped",
    ]);
    expect(messages[0]?.signal).toBe("SIGTERM");
    expect(JSON.parse(lines[1] as string)).toMatchObject({ inFlightAtDrain: 3 });
  });

  it("reports each unmet condition in registration order, then shutting down", async () => {
    const { lifecycle, server, endDelay, delaying } = harness();
    let certificate = false;
    let synced = false;
    lifecycle.requireReady("certificate not loaded", () => certificate);
    lifecycle.requireReady("store cache not synced", () => synced);
    expect(lifecycle.readiness()).toEqual(["certificate not loaded", "store cache not synced"]);
    certificate = true;
    expect(lifecycle.readiness()).toEqual(["store cache not synced"]);
    synced = true;
    expect(lifecycle.readiness()).toEqual([]);

    const run = lifecycle.run(async () => server);
    lifecycle.stop("SIGTERM");
    synced = false;
    expect(lifecycle.readiness()).toEqual(["store cache not synced", "shutting down"]);
    await delaying;
    endDelay();
    await run;
  });

  it("starts the shutdown on a listed signal, ignores a second one, and stops listening afterwards", async () => {
    const signals = new EventEmitter();
    const { lifecycle, server, steps, delaying, endDelay } = harness({
      signals: ["SIGTERM", "SIGINT"],
      signalSource: signals,
    });
    const run = lifecycle.run(async () => server);
    await Promise.resolve();
    expect(signals.listenerCount("SIGTERM")).toBe(1);
    signals.emit("SIGINT");
    signals.emit("SIGTERM");
    expect(lifecycle.stopping).toBe(true);
    await delaying;
    endDelay();
    await run;
    expect(steps.filter((step) => step.startsWith("wait"))).toHaveLength(1);
    expect(signals.listenerCount("SIGTERM")).toBe(0);
    expect(signals.listenerCount("SIGINT")).toBe(0);
  });

  it("rejects with the failure of a running part (a port that cannot be bound) after stopping what had started", async () => {
    const { lifecycle, server, steps } = harness();
    const run = lifecycle.run(async () => {
      lifecycle.onStop("Kubernetes client", () => void steps.push("stop Kubernetes client"));
      return server;
    });
    lifecycle.fail(new Error("cannot listen on 127.0.0.1:8443: listen EADDRINUSE"));
    await expect(run).rejects.toThrow("cannot listen on 127.0.0.1:8443: listen EADDRINUSE");
    expect(steps).toEqual(["stop Kubernetes client"]);
    expect(server.answering).toBe(true);
    expect(lifecycle.readiness()).toEqual(["shutting down"]);
  });

  it("rejects with the error of start, after stopping the dependencies registered before it", async () => {
    const { lifecycle, steps } = harness();
    const run = lifecycle.run(async () => {
      lifecycle.onStop("Kubernetes client", () => void steps.push("stop Kubernetes client"));
      throw new Error("cannot listen on 127.0.0.1:9090: listen EADDRINUSE");
    });
    await expect(run).rejects.toThrow("cannot listen on 127.0.0.1:9090: listen EADDRINUSE");
    expect(steps).toEqual(["stop Kubernetes client"]);
  });

  it("a failure during start ends run even when start never returns", async () => {
    const { lifecycle } = harness();
    const run = lifecycle.run(() => new Promise<Drainable>(() => {}));
    lifecycle.fail(new Error("listener failed"));
    await expect(run).rejects.toThrow("listener failed");
  });

  it("stops every dependency when one fails to stop, and rejects naming it", async () => {
    const { lifecycle, server, steps, lines, delaying, endDelay } = harness();
    const run = lifecycle.run(async () => {
      lifecycle.onStop("Kubernetes client", () => void steps.push("stop Kubernetes client"));
      lifecycle.onStop("store cache", () => {
        throw new Error("a loop did not end");
      });
      lifecycle.onStop("metrics port", () => void steps.push("stop metrics port"));
      return server;
    });
    lifecycle.stop("SIGTERM");
    await delaying;
    endDelay();
    await expect(run).rejects.toThrow("stopping failed: store cache: a loop did not end");
    expect(steps.slice(-2)).toEqual(["stop metrics port", "stop Kubernetes client"]);
    expect(lines.some((line) => line.includes('"dependency":"store cache"'))).toBe(true);
  });

  it("rejects when the drain fails, after stopping the dependencies", async () => {
    const { lifecycle, steps, delaying, endDelay } = harness();
    const server: Drainable = {
      inFlight: 0,
      drain: () => Promise.reject(new Error("close failed")),
    };
    const run = lifecycle.run(async () => {
      lifecycle.onStop("Kubernetes client", () => void steps.push("stop Kubernetes client"));
      return server;
    });
    lifecycle.stop("SIGTERM");
    await delaying;
    endDelay();
    await expect(run).rejects.toThrow("draining the listener failed: close failed");
    expect(steps).toContain("stop Kubernetes client");
  });

  it("a stop requested while starting shuts down as soon as start returns", async () => {
    const { lifecycle, server, steps, delaying, endDelay } = harness();
    const run = lifecycle.run(async () => {
      lifecycle.stop("SIGTERM");
      return server;
    });
    await delaying;
    endDelay();
    await run;
    expect(steps[1]).toBe("drain 7000 (readiness: shutting down)");
  });
});
