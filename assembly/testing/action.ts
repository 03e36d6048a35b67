// The statuses the stream operations return: what Envoy made of the filter's callback result
// (proxy-wasm-abi.md §4.8), named as Envoy names them. Compare with `toBe`.

export namespace Action {
  /** Any frame: the filter let it through. */
  export const Continue = "Continue";
  /** Headers (only with the Envoy >= 1.35 knob) or trailers: held until the filter resumes. */
  export const StopIteration = "StopIteration";
  /** Headers: the headers and everything after them are held and buffered. */
  export const StopAllIterationAndBuffer = "StopAllIterationAndBuffer";
  /** Headers: held with watermark buffering (also what Envoy makes of a plain StopIteration). */
  export const StopAllIterationAndWatermark = "StopAllIterationAndWatermark";
  /** Body: this chunk is buffered until the filter resumes. */
  export const StopIterationAndBuffer = "StopIterationAndBuffer";
  export const StopIterationAndWatermark = "StopIterationAndWatermark";
  export const StopIterationNoBuffer = "StopIterationNoBuffer";
}
