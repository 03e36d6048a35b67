import { test } from "node:test";
import assert from "node:assert/strict";
import { soakMemory } from "../../bench/soak-memory";

const MB = 1e6;

test("soak memory: start, end, max, growth and growth per 100k requests", () => {
  assert.deepEqual(
    soakMemory([
      { requests: 0, rssBytes: 120 * MB },
      { requests: 100_000, rssBytes: 130 * MB },
      { requests: 200_000, rssBytes: 124 * MB },
    ]),
    { startMB: 120, endMB: 124, maxMB: 130, growthMB: 4, growthPer100kRequestsMB: 2, slopePer100kRequestsMB: 2 },
  );
});

test("soak memory: a flat process has no growth and no slope; a shrinking one has negative growth", () => {
  const flat = soakMemory([0, 50_000, 100_000].map((requests) => ({ requests, rssBytes: 118.4 * MB })));
  assert.deepEqual(flat, { startMB: 118.4, endMB: 118.4, maxMB: 118.4, growthMB: 0, growthPer100kRequestsMB: 0, slopePer100kRequestsMB: 0 });
  const shrinking = soakMemory([{ requests: 0, rssBytes: 130 * MB }, { requests: 400_000, rssBytes: 122 * MB }]);
  assert.equal(shrinking.growthMB, -8);
  assert.equal(shrinking.growthPer100kRequestsMB, -2);
  assert.equal(shrinking.slopePer100kRequestsMB, -2);
});

test("soak memory: the slope follows a steady leak that one late collection hides from the end-to-end growth", () => {
  // 1 MB per 100k requests for 900k requests, then a collection gives 9 MB back at the end.
  const samples = Array.from({ length: 10 }, (_, i) => ({ requests: i * 100_000, rssBytes: (100 + i) * MB }));
  samples.push({ requests: 1_000_000, rssBytes: 100 * MB });
  const memory = soakMemory(samples);
  assert.equal(memory.growthMB, 0);
  assert.equal(memory.maxMB, 109);
  assert.ok(memory.slopePer100kRequestsMB > 0.4, String(memory.slopePer100kRequestsMB));
});

test("soak memory: one sample, or samples with no requests between them, give zero rates", () => {
  assert.deepEqual(soakMemory([{ requests: 0, rssBytes: 5 * MB }]), {
    startMB: 5, endMB: 5, maxMB: 5, growthMB: 0, growthPer100kRequestsMB: 0, slopePer100kRequestsMB: 0,
  });
  const noRequests = soakMemory([{ requests: 7, rssBytes: 5 * MB }, { requests: 7, rssBytes: 6 * MB }]);
  assert.equal(noRequests.growthMB, 1);
  assert.equal(noRequests.growthPer100kRequestsMB, 0);
  assert.equal(noRequests.slopePer100kRequestsMB, 0);
});

test("soak memory: bad samples are refused with the reason", () => {
  assert.throws(() => soakMemory([]), { name: "RangeError", message: "soakMemory: no samples" });
  assert.throws(() => soakMemory([{ requests: 0, rssBytes: -1 }]), {
    name: "RangeError",
    message: 'soakMemory: sample 0 is not a pair of non-negative numbers: {"requests":0,"rssBytes":-1}',
  });
  assert.throws(() => soakMemory([{ requests: 0, rssBytes: NaN }]), /sample 0 is not a pair of non-negative numbers/);
  assert.throws(() => soakMemory([{ requests: 10, rssBytes: 1 }, { requests: 5, rssBytes: 1 }]), {
    name: "RangeError",
    message: "soakMemory: sample 1 has fewer requests (5) than the one before (10)",
  });
});
