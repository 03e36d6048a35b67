// The module-wide abort handler. Release builds route every AssemblyScript abort (failed
// bounds check, `throw`, assert) here through `--use abort=...sdkAbort`, because Envoy
// provides no `env.abort` import.
import { proxy_log } from "../abi/imports";

// Written into a raw heap block, not GC strings: an abort can come from a full heap or from
// inside the allocator, where creating managed objects is unsafe. Characters above 0x7F
// become '?': messages and file names are ASCII, and this avoids linking a UTF-8 encoder.
// Strings travel as addresses (0 = null): no shadow-stack code in the abort path.
function appendText(at: usize, text: usize): usize {
  if (text != 0) {
    const end = text + <usize>changetype<string>(text).length * 2;
    for (; text < end; text += 2) {
      const c = load<u16>(text);
      store<u8>(at++, c < 0x80 ? <u8>c : 0x3f);
    }
  }
  return at;
}

function appendDecimal(at: usize, value: u32): usize {
  if (value >= 10) at = appendDecimal(at, value / 10);
  store<u8>(at, <u8>(48 + value % 10));
  return at + 1;
}

function textLength(text: usize): usize {
  return text == 0 ? 0 : <usize>changetype<string>(text).length;
}

/**
 * Logs `abort: <message> at <file>:<line>:<column>` at critical level (5), then traps; when
 * line and column are both 0 (an SDK failure, see fail) the position is left out:
 * `abort: <message> at <file>`.
 * Never returns. Legal anywhere, including module start and the allocator, because it only
 * calls `proxy_log`.
 */
export function sdkAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  abortWith(changetype<usize>(message), changetype<usize>(fileName), line, column);
}

// sdkAbort with the strings as addresses (0 = null).
function abortWith(messageText: usize, fileText: usize, line: u32, column: u32): void {
  const start = heap.alloc(40 + textLength(messageText) + textLength(fileText));
  let at = appendText(start, changetype<usize>("abort: "));
  at = appendText(at, messageText);
  at = appendText(at, changetype<usize>(" at "));
  at = appendText(at, fileText);
  if ((line | column) != 0) {
    store<u8>(at++, 0x3a);
    at = appendDecimal(at, line);
    store<u8>(at++, 0x3a);
    at = appendDecimal(at, column);
  }
  proxy_log(5, start, at - start);
  unreachable();
}

/**
 * Stops the module for a programming error the SDK detects (a broken host contract or a
 * misuse of the API): logs `abort: <message> at <where>` at critical level and traps.
 * `message` says what went wrong; `where` names the SDK function that found it, after the
 * package name (e.g. "proxy-wasm-as getContext"). Never returns. Cheaper than
 * `throw new Error(...)`, which costs an object and a file name per call site.
 */
export function fail(message: string, where: string): void {
  abortWith(changetype<usize>(message), changetype<usize>(where), 0, 0);
}
