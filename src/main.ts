#!/usr/bin/env node
// Entry point: parses the command line and runs `serve` (the webhook), `api` (the secrets API)
// or `mutate` (offline).

import { runMutate } from "./cli/mutate.js";
import { ConfigError, parseCommand } from "./config.js";

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function main(): Promise<number> {
  let command: ReturnType<typeof parseCommand>;
  try {
    command = parseCommand(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  switch (command.command) {
    case "help":
      process.stdout.write(command.text);
      return 0;
    case "mutate":
      return runMutate(command.config, {
        readStdin: async () => {
          const chunks: Buffer[] = [];
          for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
          return Buffer.concat(chunks).toString("utf8");
        },
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
      });
    case "api":
      return runServer("the secrets API", async () =>
        (await import("./serve-api.js")).serveApi(command.config),
      );
    case "serve":
      return runServer("the webhook", async () => (await import("./serve.js")).serve(command.config));
  }
}

/**
 * A server runs until SIGTERM or SIGINT and then exits 0; when it cannot start (a port that
 * cannot be bound, say) or stop cleanly, it says why and exits 1. It exits explicitly: sockets and
 * timers of its libraries must not keep a stopped server alive.
 */
async function runServer(name: string, run: () => Promise<void>): Promise<never> {
  let code = 0;
  try {
    await run();
  } catch (error) {
    process.stderr.write(`error: ${name} stopped: ${describeError(error)}\n`);
    code = 1;
  }
  process.exit(code);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${describeError(error)}\n`);
    process.exitCode = 1;
  },
);
