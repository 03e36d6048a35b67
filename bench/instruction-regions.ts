// Child process of bench/instructions.ts, run under valgrind's callgrind with
// `--dump-before=uv_os_getpriority`: every os.getPriority() call below is a region marker, so
// callgrind writes one profile per region and the parent reads each region's instruction count.
// Usage: node --single-threaded --import tsx bench/instruction-regions.ts <module.wasm> <shape>
// [warmup] [regionRequests] [regions]
import { readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { createShapeHost, playShape, SHAPES } from "./shapes";

const [wasmPath, shapeName, warmup = "3000", perRegion = "5000", regions = "3"] = process.argv.slice(2);
const shape = SHAPES.find((s) => s.name === shapeName);
if (!shape) throw new Error(`unknown shape ${shapeName}`);
const host = createShapeHost(shape, new Uint8Array(readFileSync(wasmPath)));
for (let i = 0; i < Number(warmup); i++) playShape(shape, host);
getPriority(0);
for (let r = 0; r < Number(regions); r++) {
  for (let i = 0; i < Number(perRegion); i++) playShape(shape, host);
  getPriority(0);
}
