/**
 * What a soak's memory samples say: how much the process grew after warm-up, in total and per
 * 100,000 requests. Pure arithmetic, kept apart from the soak so it can be tested.
 */

/** One sample: requests answered so far (after warm-up) and the process's resident set then. */
export interface RssSample {
  requests: number;
  rssBytes: number;
}

export interface SoakMemory {
  /** RSS right after warm-up (the first sample), in MB (10^6 bytes). */
  startMB: number;
  /** RSS at the last sample, in MB. */
  endMB: number;
  /** The largest RSS seen, in MB. */
  maxMB: number;
  /** endMB - startMB: what the soak left behind. */
  growthMB: number;
  /** growthMB spread over the requests, per 100,000 requests (0 when no request was made). */
  growthPer100kRequestsMB: number;
  /**
   * The least-squares slope of RSS over requests, in MB per 100,000 requests: a trend that one
   * late garbage collection cannot hide or fake, unlike the end-to-end growth. 0 for fewer than
   * two distinct request counts.
   */
  slopePer100kRequestsMB: number;
}

const MB = 1e6;

/**
 * Summarises `samples`, taken in order, the first right after warm-up (normally at 0 requests).
 *
 * @throws RangeError for no samples, a negative or non-finite value, or request counts that go
 *   down.
 */
export function soakMemory(samples: readonly RssSample[]): SoakMemory {
  if (samples.length === 0) throw new RangeError("soakMemory: no samples");
  for (let i = 0; i < samples.length; i++) {
    const { requests, rssBytes } = samples[i];
    if (!Number.isFinite(requests) || !Number.isFinite(rssBytes) || requests < 0 || rssBytes < 0) {
      throw new RangeError(`soakMemory: sample ${i} is not a pair of non-negative numbers: ${JSON.stringify(samples[i])}`);
    }
    if (i > 0 && requests < samples[i - 1].requests) {
      throw new RangeError(`soakMemory: sample ${i} has fewer requests (${requests}) than the one before (${samples[i - 1].requests})`);
    }
  }
  const first = samples[0];
  const last = samples[samples.length - 1];
  const requests = last.requests - first.requests;
  const growthBytes = last.rssBytes - first.rssBytes;
  return {
    startMB: round(first.rssBytes / MB),
    endMB: round(last.rssBytes / MB),
    maxMB: round(Math.max(...samples.map((s) => s.rssBytes)) / MB),
    growthMB: round(growthBytes / MB),
    growthPer100kRequestsMB: requests === 0 ? 0 : round((growthBytes / MB / requests) * 100_000, 3),
    slopePer100kRequestsMB: round(slope(samples) * 100_000 / MB, 3),
  };
}

/** Least-squares slope of rssBytes over requests; 0 when the requests do not vary. */
function slope(samples: readonly RssSample[]): number {
  const n = samples.length;
  const meanX = samples.reduce((sum, s) => sum + s.requests, 0) / n;
  const meanY = samples.reduce((sum, s) => sum + s.rssBytes, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const { requests, rssBytes } of samples) {
    covariance += (requests - meanX) * (rssBytes - meanY);
    variance += (requests - meanX) ** 2;
  }
  return variance === 0 ? 0 : covariance / variance;
}

function round(value: number, digits = 1): number {
  const rounded = Number(value.toFixed(digits));
  return Object.is(rounded, -0) ? 0 : rounded;
}
