/**
 * Colour for the CLI's own lines (✓, ✗, error:, warning:). On only when the stream is a terminal,
 * unless the environment says otherwise: FORCE_COLOR wins when set ("0" or "false" turn colour
 * off, any other value turns it on), as Node's own `getColorDepth` lets it win; otherwise a
 * non-empty NO_COLOR turns it off (https://no-color.org).
 */
export function colourEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force !== "false";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return stream.isTTY === true;
}

/** Wrappers that colour a piece of text, or return it unchanged when colour is off. */
export interface TerminalStyle {
  readonly enabled: boolean;
  ok(text: string): string;
  fail(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
}

const SGR = { green: 32, red: 31, yellow: 33, dim: 2 } as const;

/** The style for lines written to `stream`. */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): TerminalStyle {
  const enabled = colourEnabled(stream, env);
  const paint = (code: number) => (text: string) => (enabled ? `\x1b[${code}m${text}\x1b[0m` : text);
  return { enabled, ok: paint(SGR.green), fail: paint(SGR.red), warn: paint(SGR.yellow), dim: paint(SGR.dim) };
}
