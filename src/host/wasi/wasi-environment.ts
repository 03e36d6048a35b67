/** Anything exposing the current linear memory: a `WebAssembly.Memory` or its `ArrayBuffer`. */
export type LinearMemorySource = { readonly buffer: ArrayBuffer } | ArrayBuffer;

/** What the WASI functions need from the VM. All callbacks are called synchronously. */
export interface WasiEnvironment {
  /**
   * Returns the module's memory. Called again on every WASI call (and never cached across
   * calls) because `memory.grow` detaches the previous `ArrayBuffer`.
   */
  memory(): LinearMemorySource;
  /**
   * A line the plugin wrote to stdout (level 2, info) or stderr (level 4, error); the VM routes it
   * through the same path as `proxy_log`. One call per non-empty write, trailing "\n" stripped.
   */
  log(level: number, message: string): void;
  /** A message from the host about the plugin (fd_seek, fd_close, proc_exit), at `level`. */
  hostLog(level: number, message: string): void;
  /** Environment variables visible to the module, in the order `environ_get` lays them out. */
  readonly environment: ReadonlyArray<readonly [string, string]>;
  /** Wall-clock time in ns since the Unix epoch (`clock_time_get` clock 0). */
  now(): bigint;
  /** Monotonic time in ns (`clock_time_get` clock 1). */
  monotonic(): bigint;
  /** `n` cryptographically random bytes (1 <= n <= 65536). */
  randomBytes(n: number): Uint8Array;
}
