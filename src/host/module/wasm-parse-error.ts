/** A malformed wasm binary: says what was wrong and at which byte offset. */
export class WasmParseError extends Error {
  override readonly name = "WasmParseError";

  constructor(
    readonly detail: string,
    readonly offset: number,
  ) {
    super(`${detail} at offset ${offset}`);
  }
}
