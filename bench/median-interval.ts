/**
 * How far the median of a few noisy samples can be trusted: a percentile bootstrap interval.
 * The proxy bench reports its filter cost as the median of 10 forks whose costs spread over tens
 * of percent, so the median alone does not say whether a result near a target is really under it.
 */

/** The median of `values` (the mean of the two middle ones for an even count). Throws for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The central `confidence` interval (default 95 %) of the median of `values`, from `resamples`
 * bootstrap resamples drawn with a fixed seed, so the same values always give the same interval.
 * Returns [low, high] with low <= median(values) <= high for any input of one value or more.
 *
 * @throws RangeError for no values, a confidence outside (0, 1) or fewer than 100 resamples.
 */
export function medianInterval(values: readonly number[], confidence = 0.95, resamples = 4000): [number, number] {
  if (values.length === 0) throw new RangeError("interval of no values");
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  if (!(resamples >= 100)) throw new RangeError(`at least 100 resamples are needed, got ${resamples}`);
  const random = seededRandom(0x9e3779b9);
  const medians: number[] = new Array(resamples);
  const sample: number[] = new Array(values.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < values.length; i++) sample[i] = values[Math.floor(random() * values.length)];
    medians[r] = median(sample);
  }
  medians.sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  const low = medians[Math.floor(tail * (resamples - 1))];
  const high = medians[Math.ceil((1 - tail) * (resamples - 1))];
  const middle = median(values);
  // A resampled median can miss the sample's own (an even count averages two middle values).
  return [Math.min(low, middle), Math.max(high, middle)];
}

/** mulberry32: a small, fast generator; statistical quality is ample for resampling indices. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
