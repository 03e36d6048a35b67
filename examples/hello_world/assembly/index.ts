// hello_world: greets when the VM starts, then every five seconds logs the host's wall-clock
// time as a UTC date. Host time only: no WASI clock and no random source, so there is no
// lucky number.
import {
  RootContext, HttpContext, registerRoot, currentTimeNanoseconds, log,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

const TICK_MILLISECONDS: u32 = 5000;
const NANOS_PER_SECOND: u64 = 1_000_000_000;
const SECONDS_PER_DAY: u64 = 86_400;

function twoDigits(value: u32): string {
  return value < 10 ? "0" + value.toString() : value.toString();
}

// Right-aligned with zeros to `width` digits.
function padded(value: u64, width: i32): string {
  return value.toString().padStart(width, "0");
}

// The civil (proleptic Gregorian) date of a day count since 1970-01-01, as `YYYY-MM-DD`.
// Works in 400-year eras of 146097 days, which repeat exactly, so no table is needed.
function civilDate(daysSinceEpoch: u64): string {
  const days = daysSinceEpoch + 719_468; // shift the epoch to 0000-03-01: leap days fall last
  const era = days / 146_097;
  const dayOfEra = days - era * 146_097;
  const yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
  const dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
  const marchMonth = (5 * dayOfYear + 2) / 153; // 0 = March ... 11 = February
  const day = <u32>(dayOfYear - (153 * marchMonth + 2) / 5 + 1);
  const month = <u32>(marchMonth < 10 ? marchMonth + 3 : marchMonth - 9);
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return padded(year, 4) + "-" + twoDigits(month) + "-" + twoDigits(day);
}

/**
 * `YYYY-MM-DD hh:mm:ss[.fraction] UTC`, the form Rust's chrono prints a UTC time in: the
 * fraction is left out when it is zero and otherwise has 3, 6 or 9 digits, the fewest that
 * show it exactly.
 */
function formatUtc(nanosSinceEpoch: u64): string {
  const seconds = nanosSinceEpoch / NANOS_PER_SECOND;
  const nanos = nanosSinceEpoch % NANOS_PER_SECOND;
  const secondOfDay = <u32>(seconds % SECONDS_PER_DAY);
  let text = civilDate(seconds / SECONDS_PER_DAY) + " " +
    twoDigits(secondOfDay / 3600) + ":" + twoDigits(secondOfDay / 60 % 60) + ":" + twoDigits(secondOfDay % 60);
  if (nanos != 0) {
    if (nanos % 1_000_000 == 0) text += "." + padded(nanos / 1_000_000, 3);
    else if (nanos % 1000 == 0) text += "." + padded(nanos / 1000, 6);
    else text += "." + padded(nanos, 9);
  }
  return text + " UTC";
}

class HelloWorld extends RootContext {
  onVmStart(vmConfigurationSize: u32): bool {
    log.info("Hello, World!");
    this.setTickPeriod(TICK_MILLISECONDS);
    return true;
  }

  onTick(): void {
    log.info("It's " + formatUtc(currentTimeNanoseconds()) + ", there is no lucky number.");
  }

  // Envoy creates a context per HTTP stream even for a plugin that only ticks: let them pass.
  createHttpContext(contextId: u32): HttpContext {
    return new HttpContext(contextId, this);
  }
}

registerRoot("", (contextId: u32): RootContext => new HelloWorld(contextId));
