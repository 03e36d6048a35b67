// `npm start`: builds the examples, then starts the dev proxy on 127.0.0.1:10000 with add_header in
// front of the built-in echo upstream (admin on 127.0.0.1:9901). Extra arguments go to `run`.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./link-self.mjs";

function run(args) {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: "inherit" });
    const forward = (signal) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("close", (code, signal) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolvePromise(code ?? (signal ? 0 : 1));
    });
  });
}

const built = await run([join(repoRoot, "scripts", "build-examples.mjs")]);
if (built !== 0) process.exit(built);
process.exit(await run([
  join(repoRoot, "bin", "proxy-wasm-as.js"), "run",
  "--wasm", join("examples", "add_header", "build", "add_header.wasm"),
  "--name", "add_header",
  "--plugin-config", JSON.stringify({ name: "x-wasm-filter", value: "add_header" }),
  ...process.argv.slice(2),
]));
