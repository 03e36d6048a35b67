// The module-wide abort handler. Release builds route every AssemblyScript abort (failed
// bounds check, `throw`, assert) here through `--use abort=...sdkAbort`, because Envoy
// provides no `env.abort` import.
import { proxy_log } from "../abi/imports";

// Written into a raw heap block, not GC strings: an abort can come from a full heap or from
// inside the allocator, where creating managed objects is unsafe. Characters above 0x7F
// become '?': messages and file names are ASCII, and this avoids linking a UTF-8 encoder.
function appendText(at: usize, text: string | null): usize {
  if (text === null) return at;
  for (let i = 0, n = text.length; i < n; i++) {
    const c = load<u16>(changetype<usize>(text) + (<usize>i << 1));
    store<u8>(at++, c < 0x80 ? <u8>c : 0x3f);
  }
  return at;
}

function appendDecimal(at: usize, value: u32): usize {
  let digits: usize = 1;
  for (let v = value; v >= 10; v /= 10) digits++;
  const end = at + digits;
  do {
    store<u8>(--at + digits, <u8>(48 + value % 10));
    value /= 10;
  } while (value != 0);
  return end;
}

/**
 * Logs `abort: <message> at <file>:<line>:<column>` at critical level (5), then traps; when
 * line and column are both 0 (an SDK failure, see fail) the position is left out:
 * `abort: <message> at <file>`.
 * Never returns. Legal anywhere, including module start and the allocator, because it only
 * calls `proxy_log`.
 */
export function sdkAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let capacity: usize = 40;
  if (message !== null) capacity += <usize>message.length;
  if (fileName !== null) capacity += <usize>fileName.length;
  const start = heap.alloc(capacity);
  let at = appendText(start, "abort: ");
  at = appendText(at, message);
  at = appendText(at, " at ");
  at = appendText(at, fileName);
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
  sdkAbort(message, where, 0, 0);
}
