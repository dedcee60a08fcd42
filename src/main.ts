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
      try {
        const { serveApi } = await import("./serve-api.js");
        await serveApi(command.config);
      } catch (error) {
        process.stderr.write(`error: cannot start the secrets API: ${describeError(error)}\n`);
        return 1;
      }
      return -1;
    case "serve":
      try {
        const { serve } = await import("./serve.js");
        await serve(command.config);
      } catch (error) {
        process.stderr.write(`error: cannot start the webhook: ${describeError(error)}\n`);
        return 1;
      }
      return -1;
  }
}

main().then(
  (code) => {
    // -1: a server is running; it exits on a signal.
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${describeError(error)}\n`);
    process.exitCode = 1;
  },
);
