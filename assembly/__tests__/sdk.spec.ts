import {
  log, LogLevel, WasmResult, lastResult, BufferType, requestBody, callData, parseJson, parseJsonText, jsonError, JsonKind,
  Metric, getSharedData, setSharedData, setSharedDataText, registerSharedQueue, resolveSharedQueue,
  enqueueSharedQueueText, dequeueSharedQueue, currentTimeNanoseconds, callForeignFunction, RootContext,
  registerRoot, registerHttpFilter, HttpContext, liveContextCount, continueRequest, continueResponse,
  continueDownstream, closeStream, StreamType, sendLocalResponse, sendLocalResponseBytes, Header, GrpcStatus,
} from "../index";
import { proxy_on_context_create, proxy_on_tick, proxy_on_delete, proxy_on_vm_start } from "../exports";
import { findContext } from "../api/registry";
import { beginCallback } from "../api/log";
import { fail, sdkAbort } from "../runtime/abort";
import * as mock from "./host";

export { malloc } from "../exports";

describe("logging", () => {
  beforeEach(() => {
    mock.reset();
    beginCallback();
  });

  it("sends messages at or above the host level, with the level number", () => {
    mock.setLogLevel(LogLevel.Info);
    expect(log.info("hello")).toBe(WasmResult.Ok);
    expect(mock.lastLog()).toBe("2:hello");
    log.critical("bad");
    expect(mock.lastLog()).toBe("5:bad");
    expect(mock.logCount()).toBe(2);
  });

  it("drops messages below the host level without calling proxy_log", () => {
    mock.setLogLevel(LogLevel.Warn);
    log.debug("hidden");
    log.info("hidden");
    expect(log.enabled(LogLevel.Debug)).toBe(false);
    expect(log.enabled(LogLevel.Error)).toBe(true);
    expect(mock.logCount()).toBe(0);
  });

  it("asks the host for its level once per callback", () => {
    mock.setLogLevel(LogLevel.Trace);
    log.trace("a");
    log.debug("b");
    log.warn("c");
    expect(mock.logLevelCalls()).toBe(1);
    beginCallback();
    log.error("d");
    expect(mock.logLevelCalls()).toBe(2);
  });

  it("treats level 6 (off) as dropping everything", () => {
    mock.setLogLevel(6);
    log.critical("x");
    expect(mock.logCount()).toBe(0);
  });
});

describe("abort", () => {
  it("logs what and where at critical level, then traps", () => {
    mock.reset();
    expect(() => { sdkAbort("bad thing", "assembly/x.ts", 12, 345); }).toThrow();
    expect(mock.lastLog()).toBe("5:abort: bad thing at assembly/x.ts:12:345");
    expect(() => { sdkAbort(null, null, 0, 7); }).toThrow();
    expect(mock.lastLog()).toBe("5:abort:  at :0:7");
  });

  it("logs SDK failures as the package name and the message, without file or position", () => {
    mock.reset();
    expect(() => { fail("bad context id or kind"); }).toThrow();
    expect(mock.lastLog()).toBe("5:abort: proxy-wasm-as: bad context id or kind");
  });

  it("cuts a message that does not fit its line but keeps the position", () => {
    mock.reset();
    expect(() => { sdkAbort("m".repeat(1100), "assembly/long.ts", 4294967295, 4294967295); }).toThrow();
    const line = mock.lastLog();
    // A 1024-byte line with 32 bytes kept for " at " and ":<line>:<column>": text stops at 992.
    expect(line).toBe("5:abort: " + "m".repeat(992 - 7) + " at :4294967295:4294967295");
  });
});

describe("buffers", () => {
  beforeEach(() => {
    mock.reset();
  });

  it("reads all, a range, and the size", () => {
    mock.setBuffer(BufferType.HttpRequestBody, "hello world");
    expect(requestBody.size()).toBe(11);
    expect(requestBody.text()).toBe("hello world");
    expect(requestBody.text(6, 3)).toBe("wor");
    expect(requestBody.text(20)).toBe("");
  });

  it("uses Envoy's set_buffer_bytes forms for replace, prepend and append", () => {
    mock.setBuffer(BufferType.HttpRequestBody, "[body]");
    expect(requestBody.appendText("[end]")).toBe(WasmResult.Ok);
    expect(mock.lastBufferWrite()).toBe("0:4294967295:0:[end]");
    expect(requestBody.prependText("[start]")).toBe(WasmResult.Ok);
    expect(mock.lastBufferWrite()).toBe("0:0:0:[start]");
    expect(mock.bufferText(BufferType.HttpRequestBody)).toBe("[start][body][end]");
    expect(requestBody.replaceText("new")).toBe(WasmResult.Ok);
    expect(mock.lastBufferWrite()).toBe("0:0:4294967295:new");
    expect(mock.bufferText(BufferType.HttpRequestBody)).toBe("new");
  });

  it("reports an unavailable or read-only buffer", () => {
    expect(requestBody.size()).toBe(0);
    expect(lastResult()).toBe(WasmResult.NotFound);
    expect(requestBody.bytes().byteLength).toBe(0);
    mock.setBuffer(BufferType.CallData, "args");
    expect(callData.replaceText("x")).toBe(WasmResult.BadArgument);
  });
});

describe("json", () => {
  it("reads the add_header configuration", () => {
    const config = parseJsonText('{"name": "x-wasm", "value": "on"}')!;
    expect(config.kind).toBe(JsonKind.Object);
    expect(config.getString("name")).toBe("x-wasm");
    expect(config.getString("value")).toBe("on");
    expect(config.getString("other")).toBeNull();
  });

  it("decodes escapes, unicode and nested values", () => {
    const v = parseJson(String.UTF8.encode(' { "a\\"b": "x\\n\\u00e9\\u2713\\/", "n": -12.5e1, "t": true, "z": null, "l": [1, {"k": [2]}, "s"] } '))!;
    expect(v.getString('a"b')).toBe("x\né✓/");
    expect(v.getNumber("n")).toBe(-125);
    expect(v.getBool("t")).toBe(true);
    expect(v.get("z")!.isNull).toBe(true);
    const list = v.get("l")!;
    expect(list.length).toBe(3);
    expect(list.at(0)!.asNumber()).toBe(1);
    expect(list.at(1)!.get("k")!.at(0)!.asNumber()).toBe(2);
    expect(list.at(2)!.asString()).toBe("s");
    expect(list.at(3) === null).toBe(true);
    expect(list.get("k") === null).toBe(true);
    expect(v.get("l")!.toJson()).toBe('[1, {"k": [2]}, "s"]');
  });

  it("keeps the last of repeated keys and returns fallbacks on kind mismatch", () => {
    const v = parseJsonText('{"a": 1, "a": "two", "b": "str"}')!;
    expect(v.getString("a")).toBe("two");
    expect(v.getNumber("b", 7)).toBe(7);
    expect(v.getBool("a", true)).toBe(true);
    expect(parseJsonText("{}")!.get("a") === null).toBe(true);
    expect(parseJsonText("[]")!.length).toBe(0);
  });

  it("compares keys with escapes, non-ASCII text and surrogate pairs in place", () => {
    const v = parseJsonText('{"caf\\u00e9": 1, "\u{1F600}": 2, "\\ud83d\\ude00x": 3, "ab": 4, "": 5}')!;
    expect(v.getNumber("caf\u00e9")).toBe(1);
    expect(v.getNumber("\u{1F600}")).toBe(2);
    expect(v.getNumber("\u{1F600}x")).toBe(3);
    expect(v.getNumber("")).toBe(5);
    expect(v.get("a") === null).toBe(true);
    expect(v.get("abc") === null).toBe(true);
    expect(v.get("caf") === null).toBe(true);
    expect(v.getNumber("ab")).toBe(4);
    expect(v.length).toBe(0);
    expect(parseJsonText("[[], {}, 3]")!.length).toBe(3);
    expect(parseJsonText("[1]")!.at(-1) === null).toBe(true);
  });

  it("rejects invalid JSON", () => {
    expect(parseJsonText("") === null).toBe(true);
    expect(parseJsonText("{") === null).toBe(true);
    expect(parseJsonText('{"a" 1}') === null).toBe(true);
    expect(parseJsonText('{"a": 1,}') === null).toBe(true);
    expect(parseJsonText("[1 2]") === null).toBe(true);
    expect(parseJsonText('"\\x"') === null).toBe(true);
    expect(parseJsonText('"\\u12g4"') === null).toBe(true);
    expect(parseJsonText("tru") === null).toBe(true);
    expect(parseJsonText("fals") === null).toBe(true);
    expect(parseJsonText("nul") === null).toBe(true);
    expect(parseJsonText("falsy") === null).toBe(true);
    expect(parseJsonText('{"a": 1, "b"}') === null).toBe(true);
    expect(parseJsonText('{"a\n": 1}') === null).toBe(true);
    expect(parseJsonText('{1: 1}') === null).toBe(true);
    expect(parseJsonText("1.") === null).toBe(true);
    expect(parseJsonText("1e") === null).toBe(true);
    expect(parseJsonText(" [true, false, null] ")!.at(1)!.kind).toBe(JsonKind.Bool);
    expect(parseJsonText("-") === null).toBe(true);
    expect(parseJsonText("1 2") === null).toBe(true);
    expect(parseJsonText('{"a": "b"} x') === null).toBe(true);
    expect(parseJsonText("[".repeat(70) + "]".repeat(70)) === null).toBe(true);
  });

  it("says why and where a text is not JSON", () => {
    const failure = (text: string): string => {
      expect(parseJsonText(text) === null).toBe(true);
      return jsonError();
    };
    expect(failure("")).toBe("unexpected end of JSON (1:1)");
    expect(failure("{")).toBe("unexpected end of JSON (1:2)");
    expect(failure('{"a" 1}')).toBe("unexpected character '1' (1:6)");
    expect(failure('{"a": 1,}')).toBe("unexpected character '}' (1:9)");
    expect(failure('{\n  "a": [1 2]}')).toBe("unexpected character '2' (2:11)");
    expect(failure('{"é": 1,\n "b"}')).toBe("unexpected character '}' (2:5)");
    expect(failure('"\\x"')).toBe("invalid escape in a string (1:2)");
    expect(failure('["ok", "\\u12g4"]')).toBe("invalid escape in a string (1:9)");
    expect(failure('{"a\n": 1}')).toBe("control character in a string (1:4)");
    expect(failure("truex")).toBe("unexpected character 'x' (1:5)");
    expect(failure("fals")).toBe("unexpected character 'f' (1:1)");
    expect(failure("1.")).toBe("unexpected end of JSON (1:3)");
    expect(failure("-x")).toBe("unexpected character 'x' (1:2)");
    expect(failure('{"a": "b"} x')).toBe("unexpected character 'x' (1:12)");
    expect(failure("[".repeat(70) + "]".repeat(70))).toBe("nesting deeper than 64 (1:66)");
    // A '{' that is simply misplaced is not a nesting failure.
    expect(failure('{"a" {')).toBe("unexpected character '{' (1:6)");
  });

  it("refuses invalid UTF-8 inside a string, with its position", () => {
    const bytes = (list: u8[]): ArrayBuffer => {
      const buffer = new ArrayBuffer(list.length);
      for (let i = 0; i < list.length; i++) store<u8>(changetype<usize>(buffer) + i, list[i]);
      return buffer;
    };
    // {"k": "a<bad>"} with a stray continuation byte, a truncated sequence, an overlong form,
    // a surrogate code point (ED A0 80) and a value past U+10FFFF.
    const bad: u8[][] = [[0x80], [0xc3], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]];
    for (let i = 0; i < bad.length; i++) {
      const text: u8[] = [0x7b, 0x22, 0x6b, 0x22, 0x3a, 0x20, 0x22, 0x61];
      for (let j = 0; j < bad[i].length; j++) text.push(bad[i][j]);
      text.push(0x22);
      text.push(0x7d);
      expect(parseJson(bytes(text)) === null).toBe(true);
      expect(jsonError()).toBe("invalid UTF-8 in a string (1:9)");
    }
    // Valid multi-byte text still parses and decodes.
    const good = parseJson(bytes([0x22, 0xc3, 0xa9, 0xe2, 0x9c, 0x93, 0xf0, 0x9f, 0x98, 0x80, 0x22]))!;
    expect(good.asString()!).toBe("é✓😀");
  });
});

describe("metrics", () => {
  it("defines once, at first use, and reports host statuses", () => {
    mock.reset();
    const requests = Metric.counter("requests");
    const level = Metric.gauge("level");
    const latency = Metric.histogram("latency");
    expect(mock.callsText()).toBe("");
    expect(requests.increment()).toBe(WasmResult.Ok);
    expect(requests.increment(4)).toBe(WasmResult.Ok);
    expect(requests.get()).toBe(5);
    expect(requests.increment(0)).toBe(WasmResult.BadArgument);
    expect(level.record(42)).toBe(WasmResult.Ok);
    expect(level.increment(-2)).toBe(WasmResult.Ok);
    expect(level.get()).toBe(40);
    expect(latency.record(7)).toBe(WasmResult.Ok);
    expect(latency.get()).toBe(0);
    expect(lastResult()).toBe(WasmResult.BadArgument);
    expect(mock.callsText()).toBe("define:requests:4;define:level:9;define:latency:14");
  });
});

describe("shared data and queues", () => {
  beforeEach(() => {
    mock.reset();
  });

  it("reads, writes and detects CAS mismatches", () => {
    expect(getSharedData("k") === null).toBe(true);
    expect(lastResult()).toBe(WasmResult.NotFound);
    expect(setSharedDataText("k", "v1")).toBe(WasmResult.Ok);
    const first = getSharedData("k")!;
    expect(first.text).toBe("v1");
    expect(setSharedDataText("k", "v2", first.cas)).toBe(WasmResult.Ok);
    expect(setSharedDataText("k", "v3", first.cas)).toBe(WasmResult.CasMismatch);
    expect(getSharedData("k")!.text).toBe("v2");
    expect(setSharedData("empty", new ArrayBuffer(0))).toBe(WasmResult.Ok);
    expect(getSharedData("empty")!.value.byteLength).toBe(0);
  });

  it("registers, resolves, enqueues and dequeues", () => {
    const id = registerSharedQueue("jobs");
    expect(id).toBe(1);
    expect(resolveSharedQueue("", "jobs")).toBe(1);
    expect(resolveSharedQueue("", "nope")).toBe(0);
    expect(lastResult()).toBe(WasmResult.NotFound);
    expect(enqueueSharedQueueText(id, "a")).toBe(WasmResult.Ok);
    expect(String.UTF8.decode(dequeueSharedQueue(id)!)).toBe("a");
    expect(dequeueSharedQueue(id)).toBeNull();
    expect(lastResult()).toBe(WasmResult.Empty);
    expect(enqueueSharedQueueText(99, "x")).toBe(WasmResult.NotFound);
  });
});

describe("stream control", () => {
  beforeEach(() => {
    mock.reset();
  });

  it("continues and closes the right stream types", () => {
    expect(continueRequest()).toBe(WasmResult.Ok);
    expect(continueResponse()).toBe(WasmResult.Ok);
    expect(continueDownstream()).toBe(WasmResult.Ok);
    expect(closeStream(StreamType.Upstream)).toBe(WasmResult.Ok);
    expect(mock.callsText()).toBe("continue:0;continue:1;continue:2;close:3");
  });

  it("sends local responses with headers, details and gRPC status", () => {
    expect(sendLocalResponse(429, "slow down", [Header.of("retry-after", "1"), Header.of("x-a", "b")], "rate limited", GrpcStatus.ResourceExhausted)).toBe(WasmResult.Ok);
    expect(mock.localResponse()).toBe("429|slow down|retry-after=1,x-a=b|rate limited|8");
    expect(sendLocalResponseBytes(200, null)).toBe(WasmResult.Ok);
    expect(mock.localResponse()).toBe("200||||-1");
  });
});

describe("time and foreign functions", () => {
  it("reads the host clock", () => {
    expect(currentTimeNanoseconds()).toBe(1700000000123456789);
  });

  it("calls a foreign function and reports an unknown one", () => {
    mock.reset();
    expect(String.UTF8.decode(callForeignFunction("reverse", String.UTF8.encode("abc"))!)).toBe("cba");
    expect(callForeignFunction("missing")).toBeNull();
    expect(lastResult()).toBe(WasmResult.NotFound);
  });
});

// Root selection: several roots, chosen by the host's plugin_root_id.
let created = "";
class NamedRoot extends RootContext {
  constructor(id: u32, public readonly label: string) {
    super(id);
    created += label + ":" + id.toString() + ";";
  }
  onTick(): void {
    created += "tick:" + this.label + ";";
  }
}
registerRoot("first", (id: u32): RootContext => new NamedRoot(id, "first"));
registerRoot("", (id: u32): RootContext => new NamedRoot(id, "fallback"));
registerHttpFilter("stateless", (id: u32, root: RootContext): HttpContext => new HttpContext(id, root));

function hostRootId(rootId: string): void {
  mock.reset();
  const path = String.UTF8.encode("plugin_root_id");
  const value = String.UTF8.encode(rootId);
  mock.setPropertyRaw(changetype<usize>(path), path.byteLength, changetype<usize>(value), value.byteLength);
}

describe("root registration", () => {
  it("picks the root registered for the plugin's root_id, else the \"\" one", () => {
    hostRootId("first");
    proxy_on_context_create(100, 0);
    hostRootId("unknown");
    proxy_on_context_create(101, 0);
    expect(created).toBe("first:100;fallback:101;");
    expect(proxy_on_vm_start(100, 0)).toBe(1);
    proxy_on_tick(101);
    expect(created).toBe("first:100;fallback:101;tick:fallback;");
  });

  it("serves registerHttpFilter roots with their stream factory", () => {
    hostRootId("stateless");
    const before = liveContextCount();
    proxy_on_context_create(102, 0);
    proxy_on_context_create(103, 102);
    expect(liveContextCount()).toBe(before + 2);
    proxy_on_delete(103);
    proxy_on_delete(102);
    expect(liveContextCount()).toBe(before);
  });

  it("keeps live contexts findable and alive while the table grows and shrinks", () => {
    hostRootId("stateless");
    const before = liveContextCount();
    proxy_on_context_create(200, 0);
    for (let id: u32 = 201; id < 240; id++) proxy_on_context_create(id, 200);
    expect(liveContextCount()).toBe(before + 40);
    proxy_on_delete(210); // a hole in the middle, filled by the last entry
    proxy_on_delete(239);
    proxy_on_delete(9999); // unknown ids are ignored
    expect(liveContextCount()).toBe(before + 38);
    __collect(); // pinned while live: a full collection must not reclaim them
    for (let id: u32 = 201; id < 239; id++) {
      const context = findContext(id);
      if (id == 210) expect(context === null).toBe(true);
      else {
        expect(context !== null).toBe(true);
        expect(context!.id).toBe(id);
        expect(changetype<HttpContext>(context).root.id).toBe(200);
      }
    }
    expect(findContext(239) === null).toBe(true);
    for (let id: u32 = 201; id < 239; id++) proxy_on_delete(id);
    proxy_on_delete(200);
    expect(liveContextCount()).toBe(before);
    expect(findContext(200) === null).toBe(true);
  });
});
