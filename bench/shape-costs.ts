// The filter shapes' costs for bench/results.json: module bytes, wall time per request in
// interleaved rounds, and (with BENCH_CALLGRIND=1, since it takes minutes) instructions per
// request by callgrind, each for the SDK filter and its floor.
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { callgrindAvailable, countInstructions, type InstructionCount } from "./instructions";
import { buildShapes, createShapeHost, floorModule, playShape, sdkModulePath, SHAPES, type Shape } from "./shapes";

const workDir = join(dirname(fileURLToPath(import.meta.url)), ".work");

export interface ShapeCost {
  work: string;
  moduleBytes: { sdk: number; floor: number };
  /** Median nanoseconds per request over interleaved rounds (SDK round, floor round, ...). */
  wallNsPerRequest: { sdk: number; floor: number; ratio: number; rounds: number; requestsPerRound: number };
  instructionsPerRequest?: { sdk: InstructionCount; floor: InstructionCount; ratio: number; overFloor: number; method: string };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function interleavedWallTime(shape: Shape, sdk: Uint8Array, floor: Uint8Array, rounds: number, perRound: number) {
  const hosts = [sdk, floor].map((wasm) => createShapeHost(shape, wasm));
  for (const host of hosts) for (let i = 0; i < 3_000; i++) playShape(shape, host);
  const samples: number[][] = [[], []];
  for (let r = 0; r < rounds; r++) {
    for (const which of [0, 1]) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) playShape(shape, hosts[which]);
      samples[which].push(Number(process.hrtime.bigint() - started) / perRound);
    }
  }
  const [sdkNs, floorNs] = samples.map(median);
  return { sdk: Math.round(sdkNs), floor: Math.round(floorNs), ratio: Math.round((sdkNs / floorNs) * 1000) / 1000, rounds, requestsPerRound: perRound };
}

/** Builds the shapes' SDK filters and measures every shape. Requires initWat() to have completed. */
export async function measureShapes(): Promise<Record<string, ShapeCost>> {
  await buildShapes();
  mkdirSync(workDir, { recursive: true });
  const withCallgrind = process.env.BENCH_CALLGRIND === "1";
  if (withCallgrind && !callgrindAvailable()) throw new Error("BENCH_CALLGRIND=1 needs valgrind (apt-get install -y valgrind)");
  const costs: Record<string, ShapeCost> = {};
  for (const shape of SHAPES) {
    const sdkPath = sdkModulePath(shape);
    const floorPath = join(workDir, `${shape.name}_floor.wasm`);
    const floor = floorModule(shape);
    writeFileSync(floorPath, floor);
    const sdk = new Uint8Array(readFileSync(sdkPath));
    const cost: ShapeCost = {
      work: shape.work,
      moduleBytes: { sdk: statSync(sdkPath).size, floor: floor.byteLength },
      wallNsPerRequest: interleavedWallTime(shape, sdk, floor, Number(process.env.BENCH_SHAPE_ROUNDS ?? 10), 2_000),
    };
    if (withCallgrind) {
      const [sdkCount, floorCount] = await Promise.all([countInstructions(sdkPath, shape.name), countInstructions(floorPath, shape.name)]);
      cost.instructionsPerRequest = {
        sdk: sdkCount, floor: floorCount,
        ratio: Math.round((sdkCount.perRequest / floorCount.perRequest) * 1000) / 1000,
        overFloor: sdkCount.perRequest - floorCount.perRequest,
        method: "valgrind --tool=callgrind, node --single-threaded --predictable-gc-schedule --no-liftoff, 15,000 warm-up requests, then five 5,000-request regions (median); whole lifecycle: host JS, V8 and module",
      };
    }
    console.log(`shape ${shape.name}:`, JSON.stringify(cost));
    costs[shape.name] = cost;
  }
  return costs;
}
