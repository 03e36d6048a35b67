/**
 * `npm run fuzz`: the fuzzer run long. Prints progress, the summary line
 * `fuzz: seed S, N hostcalls, N streams, host exceptions 0, process deaths 0, hangs 0, disabled filters 0`
 * for each mode and in total, then each finding with its replay command; exits 1 when any count is
 * not 0, 2 on a usage error.
 */
import { parseArgs } from "node:util";
import { FuzzTotals } from "./fuzz-report";
import { fuzzKit } from "./kit-fuzzer";
import { fuzzProxy } from "./proxy-fuzzer";

const USAGE = `Usage: npm run fuzz -- [options]

  --mode <kit|proxy|both>   test-kit flows, the dev proxy with real clients, or both (default both)
  --seed <n>                run seed (default: random, printed)
  --hostcalls <n>           hostcall budget per mode (default 1000000)
  --session <n>             replay one session (kit) or request index (proxy) of the seed
  --calls-per-callback <n>  about n hostcalls per callback (default 8)
  --requests <n>            proxy mode: stop after n requests too
  --concurrency <n>         proxy mode: requests in flight (default 8; 1 to follow one request at a time)
  --workers <n>             proxy mode: the dev proxy's --concurrency (default 1; 2+ runs the filter in worker threads)
`;

function whole(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new Error(`${flag} expects a whole number, got "${text}"`);
  return Number(text);
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        mode: { type: "string" },
        seed: { type: "string" },
        hostcalls: { type: "string" },
        session: { type: "string" },
        "calls-per-callback": { type: "string" },
        requests: { type: "string" },
        concurrency: { type: "string" },
        workers: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const mode = values.mode ?? "both";
  if (!["kit", "proxy", "both"].includes(mode)) {
    process.stderr.write(`--mode: expected kit, proxy or both, got "${mode}"\n${USAGE}`);
    return 2;
  }
  let seed: number, hostcalls: number, session: number | undefined, callsPerCallback: number, requests: number | undefined, concurrency: number, workers: number;
  try {
    seed = whole(values.seed, "--seed", Math.floor(Math.random() * 2 ** 31));
    hostcalls = whole(values.hostcalls, "--hostcalls", 1_000_000);
    session = values.session === undefined ? undefined : whole(values.session, "--session", 0);
    callsPerCallback = whole(values["calls-per-callback"], "--calls-per-callback", 8);
    requests = values.requests === undefined ? undefined : whole(values.requests, "--requests", 0);
    concurrency = whole(values.concurrency, "--concurrency", 8);
    workers = whole(values.workers, "--workers", 1);
    if (concurrency < 1 || workers < 1) throw new Error("--concurrency and --workers must be at least 1");
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const log = (line: string) => process.stdout.write(`  ${line}\n`);
  const total = new FuzzTotals(seed);
  process.stdout.write(`fuzz: seed ${seed}, mode ${mode}, ${hostcalls} hostcalls per mode\n`);
  if (mode !== "proxy") {
    const kit = await fuzzKit({ seed, hostcalls, session, callsPerCallback, log });
    process.stdout.write(`kit   ${kit.summary()}\n`);
    total.add(kit);
  }
  if (mode !== "kit") {
    const proxy = await fuzzProxy({ seed, hostcalls, session, callsPerCallback, requests, concurrency, workers, log });
    process.stdout.write(`proxy ${proxy.summary()}\n`);
    total.add(proxy);
  }
  process.stdout.write(`${total.summary()}\n`);
  if (total.faults === 0) return 0;
  process.stdout.write(`findings (seed ${seed}):\n${total.describeFindings()}\n`);
  return 1;
}

process.exitCode = await main(process.argv.slice(2));
