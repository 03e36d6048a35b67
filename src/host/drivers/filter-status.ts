/**
 * What a stream callback's return value means to Envoy (reference §4.8), named as Envoy names it.
 */

export type HeadersStatus = "Continue" | "StopIteration" | "StopAllIterationAndBuffer" | "StopAllIterationAndWatermark";
export type DataStatus = "Continue" | "StopIterationAndBuffer" | "StopIterationAndWatermark" | "StopIterationNoBuffer";
export type TrailersStatus = "Continue" | "StopIteration";
export type FilterStatus = HeadersStatus | DataStatus | TrailersStatus;

/** Headers: 1 becomes StopAllIterationAndWatermark unless the Envoy ≥ 1.35 knob is on; 2 is Continue; > 4 stops all. */
export function headersStatus(value: number, allowStopIteration: boolean): HeadersStatus {
  switch (value) {
    case 0:
    case 2:
      return "Continue";
    case 1:
      return allowStopIteration ? "StopIteration" : "StopAllIterationAndWatermark";
    case 3:
      return "StopAllIterationAndBuffer";
    default:
      return "StopAllIterationAndWatermark";
  }
}

export function dataStatus(value: number): DataStatus {
  return value === 0 ? "Continue" : value === 1 ? "StopIterationAndBuffer" : value === 2 ? "StopIterationAndWatermark" : "StopIterationNoBuffer";
}

export function trailersStatus(value: number): TrailersStatus {
  return value === 0 ? "Continue" : "StopIteration";
}
