import {
  log, LogLevel, WasmResult, lastResult, requestBody, callData, httpCallResponseBody, parseJson, parseJsonText, jsonError, JsonKind,
  Metric, getSharedData, setSharedData, setSharedDataText, registerSharedQueue, resolveSharedQueue,
  enqueueSharedQueueText, dequeueSharedQueue, currentTimeNanoseconds, callForeignFunction, RootContext,
  registerRoot, registerHttpFilter, HttpContext, liveContextCount, continueRequest, continueResponse, continueDownstream,
  closeStream, StreamType, sendLocalResponse, sendLocalResponseBytes, Header, GrpcStatus,
} from "../index";
import { proxy_on_delete } from "../exports";
import { findContext } from "../api/registry";
import { fail, sdkAbort, Word } from "../runtime/abort";
import { Headers, HttpStream } from "../testing";
import {
  aRequest, clearHostcalls, duringRequestBody, duringRequestHeaders, duringTick, hostcallCount, specHost, specRoot,
} from "./spec-filter";

export * from "../exports";

// What a callback saw, for the assertions after it.
let count: i32 = 0;
let number: i64 = 0;
let text = "";

describe("logging", () => {
  beforeEach(() => {
    specHost().logs.clear();
  });
  afterAll(() => {
    specHost().setLogLevel("trace");
  });

  it("sends messages at or above the host level, with the level", () => {
    specHost().setLogLevel("info");
    duringTick(() => {
      expect(log.info("hello")).toBe(WasmResult.Ok);
      log.critical("bad");
    });
    const logs = specHost().logs;
    expect(logs.messages("info").join("|")).toBe("hello");
    expect(logs.messages("critical").join("|")).toBe("bad");
    expect(logs.count()).toBe(2);
  });

  it("drops messages below the host level without calling proxy_log", () => {
    specHost().setLogLevel("warn");
    duringTick(() => {
      clearHostcalls();
      log.debug("hidden");
      log.info("hidden");
      expect(log.enabled(LogLevel.Debug)).toBe(false);
      expect(log.enabled(LogLevel.Error)).toBe(true);
      count = hostcallCount("proxy_log(");
    });
    expect(count).toBe(0);
    expect(specHost().logs.count()).toBe(0);
  });

  it("asks the host for its level once per callback", () => {
    specHost().setLogLevel("trace");
    duringTick(() => {
      clearHostcalls();
      log.trace("a");
      log.debug("b");
      log.warn("c");
      count = hostcallCount("proxy_get_log_level");
    });
    expect(count).toBe(1);
    duringTick(() => {
      log.error("d");
    });
    expect(hostcallCount("proxy_get_log_level")).toBe(2);
  });

  it("treats level off as dropping everything", () => {
    specHost().setLogLevel("off");
    duringTick(() => {
      log.critical("x");
    });
    expect(specHost().logs.count()).toBe(0);
  });
});

describe("abort", () => {
  beforeEach(() => {
    specHost().logs.clear();
  });

  it("logs what and where at critical level, then traps", () => {
    duringTick(() => {
      expect(() => { sdkAbort("bad thing", "assembly/x.ts", 12, 345); }).toThrow();
    });
    expect(specHost().logs.messages("critical").join("|")).toBe("abort: bad thing at assembly/x.ts:12:345");
    duringTick(() => {
      expect(() => { sdkAbort(null, null, 0, 7); }).toThrow();
    });
    expect(specHost().logs.messages("critical")[1]).toBe("abort:  at :0:7");
  });

  it("logs SDK failures as the package name and the message, without file or position", () => {
    duringTick(() => {
      expect(() => { fail(Word.BadContext); }).toThrow();
    });
    expect(specHost().logs.messages("critical").join("|")).toBe("abort: proxy-wasm-as: bad context id or kind");
  });

  it("cuts a message that does not fit its line but keeps the position", () => {
    duringTick(() => {
      expect(() => { sdkAbort("m".repeat(1100), "assembly/long.ts", 4294967295, 4294967295); }).toThrow();
    });
    // A 1024-byte line with 32 bytes kept for " at " and ":<line>:<column>": text stops at 992.
    expect(specHost().logs.messages("critical").join("|")).toBe("abort: " + "m".repeat(992 - 7) + " at :4294967295:4294967295");
  });
});

describe("buffers", () => {
  it("reads all, a range, and the size", () => {
    duringRequestBody("hello world", () => {
      expect(requestBody.size()).toBe(11);
      expect(requestBody.text()).toBe("hello world");
      expect(requestBody.text(6, 3)).toBe("wor");
      expect(requestBody.text(20)).toBe("");
    });
  });

  it("uses Envoy's set_buffer_bytes forms for replace, prepend and append", () => {
    const stream = duringRequestBody("[body]", () => {
      clearHostcalls();
      expect(requestBody.appendText("[end]")).toBe(WasmResult.Ok);
      expect(requestBody.prependText("[start]")).toBe(WasmResult.Ok);
      expect(requestBody.text()).toBe("[start][body][end]");
      expect(requestBody.replaceText("new")).toBe(WasmResult.Ok);
      expect(requestBody.text()).toBe("new");
      const lines = specHost().traceLines();
      text = "";
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (line.startsWith("[vm->host] env.proxy_set_buffer_bytes(")) {
          const args = line.slice(line.indexOf("(") + 1, line.length - 1).split(", ");
          text += args[0] + ":" + args[1] + ":" + args[2] + ":" + args[4] + ";";
        }
      }
    });
    // (buffer, start, length, -, size): append at u32::MAX, prepend at 0 with length 0, replace all.
    expect(text).toBe("0:4294967295:0:5;0:0:0:7;0:0:4294967295:3;");
    expect(stream.upstream.body).toBe("new");
  });

  it("reports an unavailable or read-only buffer", () => {
    duringRequestHeaders(aRequest(), () => {
      // Envoy has an empty request body buffer outside the body callbacks, and it is not writable.
      expect(requestBody.size()).toBe(0);
      expect(lastResult()).toBe(WasmResult.Ok);
      expect(requestBody.bytes().byteLength).toBe(0);
      expect(requestBody.replaceText("x")).toBe(WasmResult.BadArgument);
      // No callout answer in this callback: that buffer is absent.
      expect(httpCallResponseBody.size()).toBe(0);
      expect(lastResult()).toBe(WasmResult.NotFound);
      // Call data (the foreign function arguments) is read-only.
      expect(callData.replaceText("x")).toBe(WasmResult.BadArgument);
    });
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
    // A leading 0 is the whole integer part (RFC 8259 §6): the digit after it is unexpected.
    expect(failure('{"a": 01}')).toBe("unexpected character '1' (1:8)");
    expect(failure("[-00]")).toBe("unexpected character '0' (1:4)");
    expect(parseJsonText("[0, -0, 0.05, 10, 1e05, 0e1]")!.at(2)!.asNumber()).toBe(0.05);
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
    duringTick(() => {
      clearHostcalls();
      const requests = Metric.counter("requests");
      const level = Metric.gauge("level");
      const latency = Metric.histogram("latency");
      expect(hostcallCount("proxy_define_metric")).toBe(0);
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
      expect(hostcallCount("proxy_define_metric")).toBe(3);
    });
    expect(specHost().metric("requests")).toBe(5);
    expect(specHost().metric("level")).toBe(40);
    expect(specHost().hasMetric("latency")).toBe(true);
  });
});

describe("shared data and queues", () => {
  it("reads, writes and detects CAS mismatches", () => {
    duringTick(() => {
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
    expect(specHost().sharedData("k")).toBe("v2");
  });

  it("registers, resolves, enqueues and dequeues", () => {
    duringTick(() => {
      const id = registerSharedQueue("jobs");
      expect(id).toBeGreaterThan(0);
      expect(resolveSharedQueue("", "jobs")).toBe(id);
      expect(resolveSharedQueue("", "nope")).toBe(0);
      expect(lastResult()).toBe(WasmResult.NotFound);
      expect(enqueueSharedQueueText(id, "a")).toBe(WasmResult.Ok);
      expect(String.UTF8.decode(dequeueSharedQueue(id)!)).toBe("a");
      expect(dequeueSharedQueue(id)).toBeNull();
      expect(lastResult()).toBe(WasmResult.Empty);
      expect(enqueueSharedQueueText(id + 99, "x")).toBe(WasmResult.NotFound);
    });
  });
});

describe("stream control", () => {
  it("continues and closes the right stream types", () => {
    duringRequestHeaders(aRequest(), () => {
      clearHostcalls();
      expect(continueRequest()).toBe(WasmResult.Ok);
      expect(continueResponse()).toBe(WasmResult.Ok);
      expect(continueDownstream()).toBe(WasmResult.Ok);
      expect(closeStream(StreamType.Upstream)).toBe(WasmResult.Ok);
      const lines = specHost().traceLines();
      text = "";
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (line.startsWith("[vm->host] env.proxy_continue_stream(") || line.startsWith("[vm->host] env.proxy_close_stream(")) text += line.slice(15) + ";";
      }
    });
    expect(text).toBe("proxy_continue_stream(0);proxy_continue_stream(1);proxy_continue_stream(2);proxy_close_stream(3);");
  });

  it("sends local responses with headers, details and gRPC status", () => {
    let stream = duringRequestHeaders(aRequest(), () => {
      expect(sendLocalResponse(429, "slow down", [Header.of("retry-after", "1"), Header.of("x-a", "b")], "rate limited", GrpcStatus.ResourceExhausted)).toBe(WasmResult.Ok);
    });
    expect(stream.localResponse.status).toBe(429);
    expect(stream.localResponse.body).toBe("slow down");
    expect(stream.localResponse.headers.get("retry-after")).toBe("1");
    expect(stream.localResponse.headers.get("x-a")).toBe("b");
    // Envoy puts details in its access log with whitespace replaced by "_".
    expect(stream.localResponse.details).toBe("rate_limited");
    expect(stream.localResponse.grpcStatus).toBe(8);
    stream = duringRequestHeaders(aRequest(), () => {
      expect(sendLocalResponseBytes(200, null)).toBe(WasmResult.Ok);
    });
    expect(stream.localResponse.status).toBe(200);
    expect(stream.localResponse.body).toBe("");
    expect(stream.localResponse.details).toBe("");
    expect(stream.localResponse.grpcStatus).toBe(-1);
  });
});

describe("time and foreign functions", () => {
  it("reads the host clock", () => {
    duringTick(() => {
      number = <i64>currentTimeNanoseconds();
    });
    const first = number;
    specHost().advanceTime(4);
    duringTick(() => {
      number = <i64>currentTimeNanoseconds();
    });
    // The fake clock starts at 2024-01-01T00:00:00Z and moves only when the spec moves it.
    expect(first).toBeGreaterThanOrEqual(1704067200000000000);
    expect(number - first).toBe(5000000);
  });

  it("calls a foreign function and reports an unknown one", () => {
    duringTick(() => {
      const packed = callForeignFunction("compress", String.UTF8.encode("abcabcabc"))!;
      expect(String.UTF8.decode(callForeignFunction("uncompress", packed)!)).toBe("abcabcabc");
      expect(callForeignFunction("missing")).toBeNull();
      expect(lastResult()).toBe(WasmResult.NotFound);
    });
  });
});

// Root selection: several roots, chosen by the plugin's root_id ("" is spec-filter.ts's).
let created = "";
class NamedRoot extends RootContext {
  constructor(id: u32, public readonly label: string) {
    super(id);
    created += label + ":" + id.toString() + ";";
  }
  onConfigure(configurationSize: u32): bool {
    this.setTickPeriod(1);
    return true;
  }
  onTick(): void {
    created += "tick:" + this.label + ";";
  }
}
registerRoot("first", (id: u32): RootContext => new NamedRoot(id, "first"));
registerHttpFilter("stateless", (id: u32, root: RootContext): HttpContext => new HttpContext(id, root));

describe("root registration", () => {
  it("picks the root registered for the plugin's root_id, else the \"\" one", () => {
    const first = specHost().addPlugin("first-plugin", "first");
    expect(created).toBe("first:" + first.rootContextId.toString() + ";");
    const fallback = specHost().addPlugin("other-plugin", "unknown");
    expect(specRoot!.id).toBe(fallback.rootContextId);
    created = "";
    specHost().advanceTime(1);
    expect(created).toBe("tick:first;");
    first.shutdown();
    fallback.shutdown();
  });

  it("serves registerHttpFilter roots with their stream factory", () => {
    const before = liveContextCount();
    const plugin = specHost().addPlugin("stateless-plugin", "stateless");
    const stream = plugin.http();
    stream.requestHeaders(aRequest());
    expect(findContext(stream.contextId) !== null).toBe(true);
    expect(liveContextCount()).toBe(before + 2);
    stream.complete();
    expect(plugin.shutdown()).toBe(true);
    expect(liveContextCount()).toBe(before);
  });

  it("keeps live contexts findable and alive while the table grows and shrinks", () => {
    const before = liveContextCount();
    const plugin = specHost().addPlugin("table-plugin", "stateless");
    const streams = new Array<HttpStream>();
    for (let i = 0; i < 39; i++) {
      const stream = plugin.http();
      stream.requestHeaders(aRequest());
      streams.push(stream);
    }
    expect(liveContextCount()).toBe(before + 40);
    streams[9].complete(); // a hole in the middle, filled by the last entry
    streams[38].complete();
    duringTick(() => {
      proxy_on_delete(9999); // unknown ids are ignored
    });
    expect(liveContextCount()).toBe(before + 38);
    __collect(); // pinned while live: a full collection must not reclaim them
    for (let i = 0; i < 38; i++) {
      const context = findContext(streams[i].contextId);
      if (i == 9) expect(context === null).toBe(true);
      else {
        expect(context !== null).toBe(true);
        expect(context!.id).toBe(streams[i].contextId);
        expect(changetype<HttpContext>(context).root.id).toBe(plugin.rootContextId);
      }
    }
    expect(findContext(streams[38].contextId) === null).toBe(true);
    for (let i = 0; i < 38; i++) if (i != 9) streams[i].complete();
    expect(plugin.shutdown()).toBe(true);
    expect(liveContextCount()).toBe(before);
    expect(findContext(plugin.rootContextId) === null).toBe(true);
  });
});
