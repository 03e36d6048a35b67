// `run --inspect` and `test --inspect` (issue #14). run opens Node's inspector in its own process:
// the test attaches an in-process session to that same isolate, as DevTools would over the URL
// run prints, sets a breakpoint on an AssemblyScript line and sends a request. test starts each
// suite under --inspect-brk: a WebSocket client (Node's, behind --experimental-websocket) lets the
// waiting child run, and the child's test checks it ran under the inspector with PWAS_INSPECT=1.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { Session, url as inspectorUrl } from "node:inspector";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { main } from "../../src/cli/main";
import { suiteRuns } from "../../src/cli/commands/test";
import { WasmSourceMap } from "../../src/host/source-map/wasm-source-map";
import { buildFixture, type FixtureBuild } from "../host/source-map/fixture-build";
import { http1Request, until } from "../proxy/proxy-test-helpers";
import { captureIo } from "./cli-test-io";

let built: FixtureBuild;
before(async () => {
  built = await buildFixture();
}, { timeout: 240_000 });
after(() => built?.dispose());

const SLEEP = new Int32Array(new SharedArrayBuffer(4));

function post<T>(session: Session, method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))));
}

describe("--inspect", { timeout: 300_000 }, () => {
  it("run --inspect: opens the inspector, a breakpoint on an AssemblyScript line pauses a request, the time limit is off", async () => {
    const cli = captureIo(built.dir);
    const exit = main(
      ["run", "--listen", "127.0.0.1:0", "--admin", "off", "--log-level", "error", "--inspect-port", "127.0.0.1:0", "--callback-time-limit", "50", "--concurrency", "2", "--wasm", built.debug],
      cli.io,
    );
    const session = new Session();
    try {
      await Promise.race([cli.ready, exit.then((code) => assert.fail(`run exited early with ${code}: ${cli.out.stderr}`))]);
      const debuggerUrl = cli.info().debuggerUrl as string;
      assert.match(debuggerUrl, /^ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+$/);
      assert.equal(inspectorUrl(), debuggerUrl);
      assert.ok(cli.out.stdout.includes(`debugger listening on ${debuggerUrl}: open chrome://inspect`), cli.out.stdout);
      assert.equal(cli.out.stderr, "--inspect: filters run on the listener's thread (--concurrency 2 ignored)\n");

      session.connect();
      const scripts: { scriptId: string; url: string; sourceMapURL?: string }[] = [];
      session.on("Debugger.scriptParsed", (message) => scripts.push(message.params));
      let pauses = 0;
      session.on("Debugger.paused", () => {
        pauses++;
        Atomics.wait(SLEEP, 0, 0, 300);
        session.post("Debugger.resume");
      });
      await post(session, "Debugger.enable");
      // The newest wasm script with a map: the filter run loaded (other tests' modules may be alive too).
      const script = scripts.filter((s) => s.url.startsWith("wasm://") && (s.sourceMapURL ?? "") !== "").at(-1);
      assert.ok(script, "the filter's wasm script carries its source map");
      const map = WasmSourceMap.parse(Buffer.from(script.sourceMapURL!.split(",")[1]!, "base64").toString("utf8"));
      const offset = map.firstOffsetAt("assembly/index.ts", 10)!;
      await post(session, "Debugger.setBreakpoint", { location: { scriptId: script.scriptId, lineNumber: 0, columnNumber: offset } });

      const response = await http1Request(`${cli.info().url as string}/`);
      assert.equal(pauses, 1);
      assert.equal(response.status, 200, "a 300 ms pause is not a trap under --inspect, whatever --callback-time-limit says");
    } finally {
      session.disconnect();
      cli.stop();
      assert.equal(await exit, 0);
    }
    assert.equal(inspectorUrl(), undefined, "run closed the inspector it opened");
  });

  it("test --inspect: each suite waits for a debugger, then runs under the inspector with PWAS_INSPECT=1", async () => {
    // Inside the repository, so `--import tsx` resolves from the project folder.
    const project = join(built.dir, "project");
    mkdirSync(join(project, "test"), { recursive: true });
    writeFileSync(
      join(project, "test", "inspect.test.mjs"),
      [
        'import { test } from "node:test";',
        'import assert from "node:assert/strict";',
        'import { url } from "node:inspector";',
        'test("runs under the inspector", () => {',
        "  assert.match(url() ?? \"\", /^ws:/);",
        '  assert.equal(process.env.PWAS_INSPECT, "1");',
        "});",
        "",
      ].join("\n"),
    );
    const cli = captureIo(project);
    const exit = main(["test", "--inspect-port", "127.0.0.1:0"], cli.io);
    await until(() => /Debugger listening on ws:\/\/\S+/.test(cli.out.stderr), "the child's inspector");
    const wsUrl = /Debugger listening on (ws:\/\/\S+)/.exec(cli.out.stderr)![1]!;
    const client = spawn(process.execPath, ["--experimental-websocket", "--no-warnings", "-e", RELEASE_CLIENT, wsUrl], { stdio: ["ignore", "pipe", "pipe"] });
    let clientOutput = "";
    client.stdout.on("data", (chunk) => (clientOutput += chunk));
    client.stderr.on("data", (chunk) => (clientOutput += chunk));
    const clientCode = await new Promise<number | null>((resolve) => client.on("close", resolve));
    assert.equal(clientCode, 0, clientOutput);
    assert.equal(await exit, 0, cli.out.stdout + cli.out.stderr);
    assert.match(cli.out.stdout, /^> node test\/inspect\.test\.mjs\n {2}waiting for a debugger on 127\.0\.0\.1:0 \(chrome:\/\/inspect or VS Code; docs\/debugging\.md\)\n/);
    assert.match(cli.out.stdout, /\nok 1 - runs under the inspector\n/);
    assert.match(cli.out.stdout, /all test suites passed\n$/);
  });

  it("test --inspect: the suites it starts", () => {
    const runs = suiteRuns(join(built.dir, "project"), undefined, "127.0.0.1:9229");
    assert.deepEqual(runs.map((run) => [run.label, run.args.filter((arg) => !arg.includes("/") || arg.startsWith("test/")), run.env]), [
      ["node test/inspect.test.mjs", ["--inspect-brk=127.0.0.1:9229", "--import", "tsx", "test/inspect.test.mjs"], { PWAS_INSPECT: "1" }],
    ]);
    assert.deepEqual(suiteRuns(join(built.dir, "project"), undefined).map((run) => [run.label, run.args, run.env]), [["node", ["--import", "tsx", "--test", "test/inspect.test.mjs"], {}]]);
  });

  it("test --inspect-port refuses what is not [host:]port", async () => {
    const cli = captureIo(built.dir);
    assert.equal(await main(["test", "--inspect-port", "here"], cli.io), 2);
    assert.equal(cli.out.stderr, 'error: --inspect-port expects [host:]port, got "here"\n');
  });
});

/** Attaches to the inspector at argv[1], lets the waiting process run, and detaches. */
const RELEASE_CLIENT = `
const socket = new WebSocket(process.argv[1]);
const timer = setTimeout(() => { console.error("no answer from the inspector"); process.exit(1); }, 60000);
socket.onopen = () => socket.send(JSON.stringify({ id: 1, method: "Runtime.runIfWaitingForDebugger" }));
socket.onmessage = (event) => {
  const message = JSON.parse(event.data);
  if (message.id === 1) { clearTimeout(timer); socket.close(); }
};
socket.onerror = (event) => { console.error("websocket error", event.message ?? ""); process.exit(1); };
`;
