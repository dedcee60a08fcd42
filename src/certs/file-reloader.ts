// Files read and checked by a caller's function, reloaded when they change without a restart.
// Secret volumes swap files by renaming a symlinked directory, which file watchers miss, so this
// polls (cheap: a few small reads) and also reacts to watch events for speed.

import { type FSWatcher, watch as watchFs } from "node:fs";
import { dirname } from "node:path";

export interface FileReloaderEvents<T> {
  onLoad(value: T): void;
  onReject(error: unknown): void;
}

/**
 * Files read and checked by `read`, re-read on every poll and file event; `onLoad` gets each new
 * value (by `same`), `onReject` each failed read, and the last good value stays in use.
 */
export class FileReloader<T> {
  readonly #files: readonly string[];
  readonly #read: () => Promise<T>;
  readonly #same: (a: T, b: T) => boolean;
  readonly #intervalMs: number;
  readonly #events: FileReloaderEvents<T>;
  #current: T | undefined;
  #timer: NodeJS.Timeout | undefined;
  #watchers: FSWatcher[] = [];
  #checking = false;

  constructor(
    files: readonly string[],
    read: () => Promise<T>,
    same: (a: T, b: T) => boolean,
    intervalMs: number,
    events: FileReloaderEvents<T>,
  ) {
    this.#files = files;
    this.#read = read;
    this.#same = same;
    this.#intervalMs = intervalMs;
    this.#events = events;
  }

  /** First load; rejects when the files are missing or invalid (the caller decides how loudly). */
  async load(): Promise<void> {
    this.#current = await this.#read();
    this.#events.onLoad(this.#current);
  }

  start(): void {
    this.#timer = setInterval(() => void this.check(), this.#intervalMs);
    this.#timer.unref();
    for (const dir of new Set(this.#files.map((file) => dirname(file)))) {
      try {
        const watcher = watchFs(dir, () => void this.check());
        watcher.on("error", () => watcher.close());
        this.#watchers.push(watcher);
      } catch {
        // Polling alone still picks up every change.
      }
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
  }

  /** Reads the files again; keeps the old value when the new one is unreadable or invalid. */
  async check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      const next = await this.#read();
      if (this.#current !== undefined && this.#same(next, this.#current)) return;
      this.#current = next;
      this.#events.onLoad(next);
    } catch (error) {
      // A half-written swap is normal; the next check will see the finished files.
      this.#events.onReject(error);
    } finally {
      this.#checking = false;
    }
  }
}
