/** The shape every hostcall family returns: import name -> implementation. */
// Hostcalls receive raw wasm values (numbers, and bigint for i64), so the parameters are loose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Hostcall = (...args: any[]) => number | void;
export type HostcallTable = Record<string, Hostcall>;
