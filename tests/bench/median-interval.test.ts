// The bootstrap interval the proxy bench reports around its median filter cost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { median, medianInterval } from "../../bench/median-interval";

test("median: the middle value, or the mean of the two middle ones", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([-5]), -5);
  assert.throws(() => median([]), /median of no values/);
});

test("median interval: holds the median, narrows with agreeing samples, widens with spread ones", () => {
  const spread = [1.4, 5.3, 11.7, 21.4, 12, 8.9, 3.5, 9.4, 16.4, 12.5];
  const [low, high] = medianInterval(spread);
  assert.ok(low <= median(spread) && median(spread) <= high);
  // Resampling 10 values picks its medians among the middle ones, never the extremes.
  assert.ok(low > 1.4 && low <= 8.9, `low ${low}`);
  assert.ok(high >= 11.7 && high < 21.4, `high ${high}`);

  const agreeing = [9.8, 9.9, 10, 10.1, 10.2, 9.9, 10, 10.1, 9.8, 10.2];
  const [agreeLow, agreeHigh] = medianInterval(agreeing);
  assert.ok(agreeHigh - agreeLow < 0.5 && agreeHigh - agreeLow < (high - low) / 10);

  assert.deepEqual(medianInterval([7]), [7, 7]);
  assert.deepEqual(medianInterval([2, 2, 2]), [2, 2]);
});

test("median interval: the same values give the same interval every time", () => {
  const values = [3, 14, 15, 9, 2, 6, 5, 35, 8, 9];
  assert.deepEqual(medianInterval(values), medianInterval([...values]));
  // A lower confidence gives an interval inside the 95 % one.
  const [low95, high95] = medianInterval(values);
  const [low50, high50] = medianInterval(values, 0.5);
  assert.ok(low95 <= low50 && high50 <= high95);
});

test("median interval: bad input is refused with the reason", () => {
  assert.throws(() => medianInterval([]), /interval of no values/);
  assert.throws(() => medianInterval([1, 2], 1), /confidence must be in \(0, 1\), got 1/);
  assert.throws(() => medianInterval([1, 2], 0.95, 10), /at least 100 resamples are needed, got 10/);
});
