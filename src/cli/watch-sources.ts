import { existsSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import type { CliIo } from "./cli-io";
import { styleFor } from "./terminal-style";

/** What a watch mode reacts to: whole folders (recursively) and single files. */
export interface WatchRoots {
  folders: string[];
  files: string[];
}

/**
 * Editors save in bursts (write, rename, chmod; several files on "save all"): one run per burst,
 * started once nothing changed for this long.
 */
export const WATCH_DEBOUNCE_MS = 150;

/**
 * Runs `action` on every burst of changes under `roots` until `io.stopSignal` resolves, then waits
 * for a run in progress and returns. Runs never overlap: a change during a run queues one more run.
 * A folder or file that does not exist yet is not watched. Calls `io.onReady({ watching })` once
 * the watchers are in place (tests wait for it before editing files).
 */
export async function watchUntilStopped(io: CliIo, roots: WatchRoots, action: (changed: string[]) => Promise<void>, debounceMs = WATCH_DEBOUNCE_MS): Promise<void> {
  const style = styleFor(io.stderr, io.env);
  const watchers: FSWatcher[] = [];
  let changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let stopped = false;

  const runPending = async (): Promise<void> => {
    while (changed.size > 0 && !stopped) {
      const batch = [...changed].sort();
      changed = new Set();
      io.stderr.write(style.dim(`\nchanged: ${batch.map((path) => relative(io.cwd, path) || path).join(", ")}\n`));
      try {
        await action(batch);
      } catch (error) {
        io.stderr.write(`${style.fail("error:")} ${(error as Error).message}\n`);
      }
    }
    running = null;
  };
  const noteChange = (path: string): void => {
    changed.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (running === null && !stopped) running = runPending();
    }, debounceMs);
  };
  const onError = (error: Error): void => {
    io.stderr.write(`${style.warn("warning:")} watching stopped for a folder: ${error.message}\n`);
  };

  for (const folder of roots.folders) {
    if (!existsSync(folder)) continue;
    const watcher = watch(folder, { recursive: true }, (_event, name) => noteChange(name === null ? folder : join(folder, name)));
    watcher.on("error", onError);
    watchers.push(watcher);
  }
  for (const file of roots.files) {
    if (!existsSync(file)) continue;
    // The folder, not the file: editors replace a file on save, which ends a watch on the file itself.
    const watcher = watch(dirname(file), (_event, name) => {
      if (name === basename(file)) noteChange(file);
    });
    watcher.on("error", onError);
    watchers.push(watcher);
  }
  const watching = [...roots.folders, ...roots.files].filter((path) => existsSync(path)).map((path) => relative(io.cwd, path) || ".");
  io.stderr.write(style.dim(`watching ${watching.join(", ")} for changes (Ctrl-C to stop)\n`));
  io.onReady?.({ watching });

  await io.stopSignal;
  stopped = true;
  clearTimeout(timer);
  for (const watcher of watchers) watcher.close();
  await (running as Promise<void> | null);
}
