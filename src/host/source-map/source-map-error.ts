/** A source map that cannot be read: `message` says why. */
export class SourceMapError extends Error {
  override readonly name = "SourceMapError";
}
