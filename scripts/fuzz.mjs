// `npm run fuzz`: runs the fuzzer (tests/fuzz/fuzz-main.ts) long; see docs/fuzzing.md.
// Usage: npm run fuzz -- [--mode=kit|proxy|both] [--seed N] [--hostcalls N] [--session N] ...
import { register } from "tsx/esm/api";

register();
await import("../tests/fuzz/fuzz-main.ts");
