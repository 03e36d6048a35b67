/**
 * Node's inspector for `run --inspect`: opened in this process (the dev proxy runs its filters
 * here), so Chrome DevTools (chrome://inspect) and VS Code's JavaScript debugger attach to it.
 */
import { close as inspectorClose, open as inspectorOpen, url as inspectorUrl } from "node:inspector";

/** Set when this module opened the inspector (and so closes it); not when Node was started with --inspect. */
let openedHere = false;

/**
 * Opens the inspector on `host:port` (port 0: any free port) without waiting for a debugger, and
 * returns its `ws://` URL. When the process already has one open (`node --inspect`), that one is
 * used and `host`/`port` are not.
 *
 * @throws Error when the port cannot be listened on.
 */
export function openInspector(host: string, port: number): string {
  const open = inspectorUrl();
  if (open !== undefined) return open;
  inspectorOpen(port, host, false);
  openedHere = true;
  const url = inspectorUrl();
  if (url === undefined) throw new Error("the inspector reported no URL");
  return url;
}

/** Closes the inspector if `openInspector` opened it. */
export function closeInspector(): void {
  if (!openedHere) return;
  openedHere = false;
  inspectorClose();
}
