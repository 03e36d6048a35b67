// `npm start`: the dev proxy on 127.0.0.1:10000 with add_header in front of the built-in echo
// upstream (admin on 127.0.0.1:9901), as fast as possible after `npm ci`: the ports are checked
// first (a taken one is named at once, as the listener's or the admin's), then only add_header is
// built, and not even that when its stamp shows nothing changed (src/cli/build-stamp.ts).
// Extra arguments go to `run` (e.g. --listen 127.0.0.1:8080, --admin off).
import { join } from "node:path";
import { register } from "tsx/esm/api";
import { linkSelf, repoRoot } from "./link-self.mjs";

register();
const { buildFilter } = await import("../src/cli/commands/build.ts");
const { main } = await import("../src/cli/main.ts");
const { processIo } = await import("../src/cli/cli-io.ts");
const { busyPortMessage, firstBusyPort } = await import("../src/cli/port-check.ts");
const { parseHostPort } = await import("../src/proxy/config/load-config-file.ts");

const EXAMPLE = "add_header";
const extra = process.argv.slice(2);

/** The value of `--flag value`, `--flag=value` or `-f value` in the extra arguments (the last one wins, as in `run`). */
function flagValue(long, short) {
  let value;
  for (let i = 0; i < extra.length; i++) {
    const arg = extra[i];
    if (arg === long || (short !== undefined && arg === short)) value = extra[i + 1];
    else if (arg.startsWith(`${long}=`)) value = arg.slice(long.length + 1);
  }
  return value;
}

// A --config file may move the ports; then `run` checks them itself once it has read the file.
if (flagValue("--config", "-c") === undefined) {
  const claims = [];
  try {
    claims.push({ role: "listener", ...parseHostPort(flagValue("--listen", "-l") ?? "127.0.0.1:10000", "--listen") });
    const admin = flagValue("--admin") ?? "127.0.0.1:9901";
    if (admin !== "off") claims.push({ role: "admin", ...parseHostPort(admin, "--admin") });
  } catch (error) {
    console.error(`error: ${error.message}`);
    process.exit(2);
  }
  const busy = await firstBusyPort(claims);
  if (busy !== null) {
    console.error(`error: ${busyPortMessage(busy, busy.code)} (e.g. npm start -- ${busy.role === "admin" ? "--admin 127.0.0.1:9902" : "--listen 127.0.0.1:10001"})`);
    process.exit(1);
  }
}

linkSelf();
const cwd = join(repoRoot, "examples", EXAMPLE);
const out = join("build", `${EXAMPLE}.wasm`);
const buildIo = { stdout: process.stdout, stderr: process.stderr, cwd, env: process.env, stopSignal: new Promise(() => {}) };
const built = await buildFilter(buildIo, { entry: "assembly/index.ts", config: "asconfig.json", debug: false, out, incremental: true, label: EXAMPLE });
if (built === null) process.exit(1);

process.exitCode = await main(
  [
    "run",
    "--wasm", join(cwd, out),
    "--name", EXAMPLE,
    "--plugin-config", JSON.stringify({ name: "x-wasm-filter", value: EXAMPLE }),
    ...extra,
  ],
  { ...processIo(), cwd: repoRoot },
);
