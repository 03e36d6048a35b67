/**
 * The source map a debugger gets under `--inspect`. V8 reads a wasm module's `sourceMappingURL`
 * custom section and reports it in `Debugger.scriptParsed`; Chrome DevTools and VS Code's
 * JavaScript debugger then show the AssemblyScript sources and bind breakpoints set in them.
 * The module V8 compiles is the host's rewrite of the module as built (host-controlled-module.ts),
 * whose code sits `codeOffsetShift` bytes further on, so the map's offsets move by as much; the
 * map travels as a data: URL, so no file or server needs to be reachable from the debugger.
 */
import { SourceMapError } from "./source-map-error";

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** One Base64 VLQ number, as source map mappings write them. */
export function encodeVlq(value: number): string {
  let rest = value < 0 ? -value * 2 + 1 : value * 2;
  let out = "";
  do {
    let digit = rest % 32;
    rest = Math.floor(rest / 32);
    if (rest > 0) digit += 32;
    out += BASE64[digit];
  } while (rest > 0);
  return out;
}

/** The length of the VLQ number at the start of `text`, and its value. */
function firstVlq(text: string): { value: number; length: number } {
  let value = 0;
  let shift = 0;
  for (let at = 0; at < text.length; at++) {
    const digit = BASE64.indexOf(text[at]!);
    if (digit < 0) break;
    value += (digit & 31) * 2 ** shift;
    shift += 5;
    if ((digit & 32) === 0) return { value: value % 2 === 1 ? -(value - 1) / 2 : value / 2, length: at + 1 };
  }
  throw new SourceMapError("mappings do not start with a number");
}

/**
 * `mapText` with every generated offset moved by `shift` bytes, and `sourceRoot` set when given
 * (a `file://` URL of the folder the sources are relative to, so a debugger finds them on disk).
 * Every mapping's offset is relative to the one before, so moving the first moves all.
 *
 * @throws SourceMapError for text that is not a source map.
 */
export function debuggerSourceMap(mapText: string, shift: number, sourceRoot: string | undefined): string {
  let json: { mappings?: unknown; sourceRoot?: unknown };
  try {
    json = JSON.parse(mapText) as typeof json;
  } catch (error) {
    throw new SourceMapError(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof json.mappings !== "string") throw new SourceMapError("no mappings");
  if (shift !== 0 && json.mappings.length > 0) {
    const first = firstVlq(json.mappings);
    json.mappings = encodeVlq(first.value + shift) + json.mappings.slice(first.length);
  }
  if (sourceRoot !== undefined) json.sourceRoot = sourceRoot;
  return JSON.stringify(json);
}

/** A `data:` URL holding `mapText`, for a module's `sourceMappingURL` section. */
export function sourceMapDataUrl(mapText: string): string {
  return `data:application/json;charset=utf-8;base64,${Buffer.from(mapText, "utf8").toString("base64")}`;
}
