// A debugger stops at a breakpoint set on an AssemblyScript line (issue #14). The test drives
// Node's inspector protocol in-process, as Chrome DevTools and VS Code do over the wire:
// Debugger.enable, Debugger.scriptParsed of the filter's wasm script with its sourceMapURL (the
// map the test kit puts into the compiled module under `inspect`), Debugger.setBreakpoint at the
// wasm offset the map gives for the line, then a request, and Debugger.paused there. The
// callback time limit is off under `inspect`, so a long pause is not a trap.
import assert from "node:assert/strict";
import { Session } from "node:inspector";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { createTestHost } from "../../../src/testing";
import { WasmSourceMap } from "../../../src/host/source-map/wasm-source-map";
import { buildFixture, FIXTURE_DIR, type FixtureBuild } from "./fixture-build";

let built: FixtureBuild;
before(async () => {
  built = await buildFixture();
}, { timeout: 240_000 });
after(() => built?.dispose());

interface ScriptParsed {
  readonly scriptId: string;
  readonly url: string;
  readonly sourceMapURL?: string;
}

interface Paused {
  readonly reason: string;
  readonly hitBreakpoints?: string[];
  readonly callFrames: { readonly location: { scriptId: string; lineNumber: number; columnNumber: number } }[];
}

/** `const mode = this.requestHeaders.get("x-fail");` in the fixture's onRequestHeaders. */
const LINE = 10;
const SLEEP = new Int32Array(new SharedArrayBuffer(4));

function post<T>(session: Session, method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))));
}

function mapOf(url: string): { text: string; map: WasmSourceMap } {
  const prefix = "data:application/json;charset=utf-8;base64,";
  assert.ok(url.startsWith(prefix), url.slice(0, 60));
  const text = Buffer.from(url.slice(prefix.length), "base64").toString("utf8");
  return { text, map: WasmSourceMap.parse(text) };
}

describe("--inspect: breakpoints on AssemblyScript lines", { timeout: 300_000 }, () => {
  for (const build of ["debug", "release"] as const) {
    it(`${build} build: pauses at the wasm location of assembly/index.ts:${LINE}, and a long pause is not a trap`, async () => {
      const session = new Session();
      session.connect();
      try {
        const scripts: ScriptParsed[] = [];
        session.on("Debugger.scriptParsed", (message) => scripts.push(message.params as ScriptParsed));
        const paused: Paused[] = [];
        session.on("Debugger.paused", (message) => {
          paused.push(message.params as Paused);
          // Longer than the time limit asked for below: under inspect it is off.
          Atomics.wait(SLEEP, 0, 0, 300);
          session.post("Debugger.resume");
        });
        await post(session, "Debugger.enable");
        // Debugger.enable reports the scripts parsed before too (an earlier test's module among them).
        const before = scripts.length;

        const host = createTestHost({ wasm: built[build], inspect: true, callbackTimeLimitMs: 50 });
        const script = scripts.slice(before).find((s) => s.url.startsWith("wasm://") && s.sourceMapURL !== undefined && s.sourceMapURL !== "");
        assert.ok(script, `a wasm script with a source map among ${JSON.stringify(scripts.filter((s) => s.url.startsWith("wasm://")))}`);
        const { text, map } = mapOf(script.sourceMapURL!);
        assert.equal((JSON.parse(text) as { sourceRoot: string }).sourceRoot, `${pathToFileURL(FIXTURE_DIR.replace(/\/$/, "")).href}/`, "sources resolve to the files on disk");

        const offset = map.firstOffsetAt("assembly/index.ts", LINE);
        assert.notEqual(offset, undefined, `the map has code for line ${LINE}`);
        const { breakpointId, actualLocation } = await post<{ breakpointId: string; actualLocation: { columnNumber: number } }>(session, "Debugger.setBreakpoint", {
          location: { scriptId: script.scriptId, lineNumber: 0, columnNumber: offset },
        });
        assert.equal(actualLocation.columnNumber, offset, "the breakpoint binds where the map says the line starts");

        host.http().requestHeaders({ "x-fail": "none" });
        assert.equal(paused.length, 1);
        assert.deepEqual(paused[0]!.hitBreakpoints, [breakpointId]);
        const location = paused[0]!.callFrames[0]!.location;
        assert.equal(location.scriptId, script.scriptId);
        assert.deepEqual(map.positionAt(location.columnNumber), { source: "assembly/index.ts", line: LINE, column: map.positionAt(offset!)!.column });
        assert.equal(host.failure, null, "the pause did not trip the callback time limit");

        // A trap pauses where the failure report says it happened: the map's offsets were moved
        // to the module the host compiled (its rewrite moves code).
        await post(session, "Debugger.removeBreakpoint", { breakpointId });
        await post(session, "Debugger.setPauseOnExceptions", { state: "all" });
        host.http().requestHeaders({ "x-fail": "unreachable" });
        assert.equal(paused.length, 2);
        assert.equal(paused[1]!.reason, "exception");
        assert.deepEqual(map.positionAt(paused[1]!.callFrames[0]!.location.columnNumber), { source: "assembly/index.ts", line: 11, column: 32 });
        assert.match(host.failure ?? "", /^Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable at assembly\/index\.ts:11:32\n/);
      } finally {
        await post(session, "Debugger.disable").catch(() => undefined);
        session.disconnect();
      }
    });
  }
});
