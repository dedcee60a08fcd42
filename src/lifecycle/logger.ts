// One JSON object per line on stdout. Callers pass named fields; nothing here ever logs a
// request body, a patch or a secret value, because callers never hand those over.

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * A batch is written once it holds this many characters. In a pod, stdout is a pipe to the
 * container runtime, and a synchronous write larger than the pipe's 64 KiB buffer waits for the
 * runtime to read the rest, holding every request in flight (a 512-line batch of admission lines
 * was about 220 KB); a batch under the buffer's size is copied and returns.
 */
const BATCH_CHARS = 48 * 1024;

/**
 * Lines are collected and written together at most every `flushMs`: stdout redirected to a file
 * is a synchronous system call per write, which under load cost a tenth of the server's time
 * (bench/). A normal exit flushes what is pending; a SIGKILL can lose up to `flushMs` of lines.
 */
export function batchedStdout(flushMs = 50): (line: string) => void {
  let pending: string[] = [];
  let pendingChars = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const text = pending.join("");
    pending = [];
    pendingChars = 0;
    process.stdout.write(text);
  };
  process.once("exit", () => {
    if (pending.length > 0) flush();
  });
  return (line) => {
    pending.push(line);
    pendingChars += line.length;
    if (pendingChars >= BATCH_CHARS) flush();
    else if (!timer) {
      timer = setTimeout(flush, flushMs);
      timer.unref();
    }
  };
}

export function createLogger(level: LogLevel, write: (line: string) => void = batchedStdout()): Logger {
  const threshold = ORDER[level];
  const emit = (at: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[at] < threshold) return;
    write(logLine(at, message, fields));
  };
  return {
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
  };
}

let clockMs = -1;
let clockText = "";

/** The time as ISO text, formatted once per millisecond (a line per admission shares it). */
function isoNow(): string {
  const now = Date.now();
  if (now !== clockMs) {
    clockMs = now;
    clockText = new Date(now).toISOString();
  }
  return clockText;
}

/**
 * `{"time", "level", "msg", ...fields}` as JSON, written without copying the fields into a new
 * object (the admission line has 16 of them); the same text as JSON.stringify of that object.
 */
function logLine(at: LogLevel, message: string, fields: LogFields | undefined): string {
  const time = isoNow();
  if (fields !== undefined && ("time" in fields || "level" in fields || "msg" in fields)) {
    return `${JSON.stringify({ time, level: at, msg: message, ...fields })}\n`;
  }
  const head = `{"time":"${time}","level":"${at}","msg":${JSON.stringify(message)}`;
  const rest = fields === undefined ? "{}" : JSON.stringify(fields);
  return rest === "{}" ? `${head}}\n` : `${head},${rest.slice(1)}\n`;
}

/** Error text without stack or request data: for logs of failures. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.slice(0, 500);
  return String(error).slice(0, 500);
}
