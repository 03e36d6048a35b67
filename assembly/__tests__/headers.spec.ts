import {
  WasmResult, lastResult, requestHeaders, responseHeaders, httpCallResponseHeaders, Header, requestBody,
} from "../index";
import { Headers } from "../testing";
import { aRequest, clearHostcalls, duringRequestBody, duringRequestHeaders, duringResponseHeaders, hostcallCount } from "./spec-filter";
import { bytesOf, hexOf } from "./bytes";

export * from "../exports";

// What a callback saw, for the assertions after it.
let text: string | null = null;
let result: WasmResult = WasmResult.Ok;
let count: i32 = 0;

describe("header maps", () => {
  it("gets a value, and null with NotFound for an absent key", () => {
    duringRequestHeaders(Headers.of([[":path", "/hello"]]), () => {
      expect(requestHeaders.get(":path")).toBe("/hello");
      expect(lastResult()).toBe(WasmResult.Ok);
      expect(requestHeaders.get("x-missing")).toBeNull();
      expect(lastResult()).toBe(WasmResult.NotFound);
    });
  });

  it("returns null with BadArgument when the map is unavailable", () => {
    // Envoy has no response headers while the request headers are processed.
    duringRequestHeaders(aRequest(), () => {
      expect(responseHeaders.get("location")).toBeNull();
      expect(lastResult()).toBe(WasmResult.BadArgument);
      expect(responseHeaders.add("a", "b")).toBe(WasmResult.BadArgument);
      expect(responseHeaders.getAll().length).toBe(0);
    });
  });

  it("reads the map as pairs: host order, byte compares, values decoded on demand", () => {
    duringRequestHeaders(Headers.of([[":path", "/p"], ["user-agent", "curl/8"], ["x-a", "1"]]), () => {
      const pairs = requestHeaders.pairs();
      expect(pairs.count).toBe(3);
      expect(pairs.nameIs(1, "user-agent")).toBe(true);
      expect(pairs.value(1)).toBe("curl/8");
      expect(pairs.get(":path")!).toBe("/p");
      expect(pairs.indexOf("x-a")).toBe(2);
      // A snapshot: a later write to the map does not change it.
      expect(requestHeaders.add("x-b", "2")).toBe(WasmResult.Ok);
      expect(pairs.count).toBe(3);
      expect(requestHeaders.pairs().count).toBe(4);
    });
  });

  it("gives empty pairs when the map is unavailable", () => {
    duringRequestHeaders(aRequest(), () => {
      expect(responseHeaders.pairs().count).toBe(0);
    });
  });

  it("reads an empty value (ptr 0, size 0) as an empty string, not null", () => {
    duringRequestHeaders(Headers.of([[":path", "/"], ["x-empty", ""]]), () => {
      const value = requestHeaders.get("x-empty");
      expect(value).not.toBeNull();
      expect(value!).toBe("");
      expect(requestHeaders.getBytes("x-empty")!.byteLength).toBe(0);
    });
  });

  it("gives non-UTF-8 values byte for byte through getBytes", () => {
    duringRequestHeaders(Headers.of([[":path", "/"]]).addBytes("x-bin", bytesOf([0xff, 0x41, 0x00, 0x80])), () => {
      expect(hexOf(requestHeaders.getBytes("x-bin")!)).toBe("ff 41 00 80");
      // The string form replaces each invalid sequence with U+FFFD.
      expect(requestHeaders.get("x-bin")!).toBe("\uFFFDA\0\uFFFD");
    });
  });

  it("adds, replaces and removes entries in the host map", () => {
    const stream = duringResponseHeaders(Headers.of([[":status", "200"], ["location", "/old"], ["x-a", "1"]]), () => {
      expect(responseHeaders.add("x-a", "2")).toBe(WasmResult.Ok);
      expect(responseHeaders.replace("location", "envoy-wasm")).toBe(WasmResult.Ok);
      expect(responseHeaders.add("hello", "world!")).toBe(WasmResult.Ok);
      const all = responseHeaders.getAll();
      text = "";
      for (let i = 0; i < all.length; i++) text = text! + (i > 0 ? "," : "") + all[i].key + "=" + all[i].value;
      expect(responseHeaders.remove("x-a")).toBe(WasmResult.Ok);
      expect(responseHeaders.remove("x-never")).toBe(WasmResult.Ok);
    });
    // Envoy's replace sets the value in place (HeaderMap::setCopy), so `location` keeps its position.
    expect(text).toBe(":status=200,location=envoy-wasm,x-a=1,x-a=2,hello=world!");
    expect(stream.downstream.headers.toString()).toBe(":status: 200\nlocation: envoy-wasm\nhello: world!");
  });

  it("adds and replaces raw-bytes values", () => {
    const stream = duringResponseHeaders(Headers.of([[":status", "200"]]), () => {
      responseHeaders.addBytes("x-raw", bytesOf([0xc3, 0x28]));
      responseHeaders.replaceBytes("x-raw2", bytesOf([0x00]));
    });
    const sent = stream.downstream.headers;
    expect(sent.length).toBe(3);
    expect(sent.name(1)).toBe("x-raw");
    expect(hexOf(sent.valueBytes(1))).toBe("c3 28");
    expect(sent.name(2)).toBe("x-raw2");
    expect(hexOf(sent.valueBytes(2))).toBe("00");
  });

  it("gets all entries in host order, and an empty list for an empty map", () => {
    duringRequestHeaders(Headers.of([[":method", "GET"], ["b", "2"], ["b", "3"]]), () => {
      // No callout answered: the map is unavailable, and the SDK gives an empty list.
      expect(httpCallResponseHeaders.getAll().length).toBe(0);
      const all = requestHeaders.getAll();
      expect(all.length).toBe(3);
      expect(all[0].key).toBe(":method");
      expect(all[0].value).toBe("GET");
      expect(all[2].key).toBe("b");
      expect(all[2].value).toBe("3");
    });
  });

  it("sets all entries at once", () => {
    const stream = duringRequestHeaders(Headers.of([[":method", "GET"], [":path", "/"], [":authority", "spec"], ["old", "x"]]), () => {
      expect(requestHeaders.setAll([Header.of(":method", "GET"), Header.of(":path", "/"), Header.of(":authority", "spec"), Header.of("a", "1"), Header.of("a", "2")])).toBe(WasmResult.Ok);
      count = requestHeaders.getAll().length;
      expect(requestHeaders.setAll([])).toBe(WasmResult.Ok);
      result = lastResult();
    });
    expect(count).toBe(5);
    expect(result).toBe(WasmResult.Ok);
    stream.requestBody("", true);
    expect(stream.upstream.headers.length).toBe(0);
  });

  it("reports the host's byte size, 0 when unavailable", () => {
    duringRequestHeaders(Headers.of([["ab", "cde"]]), () => {
      expect(requestHeaders.byteSize()).toBe(5);
      expect(responseHeaders.byteSize()).toBe(0);
      expect(lastResult()).toBe(WasmResult.BadArgument);
    });
  });

  it("makes exactly one host round trip per map operation", () => {
    duringRequestHeaders(Headers.of([["a", "1"]]), () => {
      clearHostcalls();
      requestHeaders.get("a");
      requestHeaders.add("b", "2");
      requestHeaders.replace("c", "3");
      requestHeaders.remove("a");
      requestHeaders.getAll();
      count = hostcallCount("header_map");
    });
    expect(count).toBe(5);
  });
});

// The allocator the host calls: the SDK's, and under GC pressure a full collection and fresh
// allocations right after each block it gives the host, which would reuse the block if the
// collector had reclaimed it before the SDK took ownership.
import { malloc as sdkMalloc } from "../exports";
let gcPressure = false;
let collections = 0;
let lastBlock: usize = 0;
export function malloc(size: usize): usize {
  const block = sdkMalloc(size);
  lastBlock = block;
  if (gcPressure) {
    __collect();
    collections++;
    for (let i = 0; i < 64; i++) "x".repeat(<i32>size);
  }
  return block;
}

describe("allocator under GC pressure", () => {
  it("keeps host-written blocks intact across full collections", () => {
    duringRequestHeaders(Headers.of([["x-long", "0123456789abcdefghijklmnopqrstuvwxyz-0123456789"], ["x-b", "second-value"]]), () => {
      gcPressure = true;
      collections = 0;
      for (let i = 0; i < 200; i++) {
        expect(requestHeaders.get("x-long")).toBe("0123456789abcdefghijklmnopqrstuvwxyz-0123456789");
        const all = requestHeaders.getAll();
        expect(all.length).toBe(2);
        expect(all[1].value).toBe("second-value");
      }
      gcPressure = false;
    });
    expect(collections).toBe(400);
  });

  it("keeps a body read in place intact across full collections", () => {
    duringRequestBody("a body the host writes straight into the ArrayBuffer that bytes() returns", () => {
      gcPressure = true;
      collections = 0;
      for (let i = 0; i < 200; i++) {
        expect(String.UTF8.decode(requestBody.bytes())).toBe("a body the host writes straight into the ArrayBuffer that bytes() returns");
        expect(String.UTF8.decode(requestBody.bytes(2, 4))).toBe("body");
      }
      gcPressure = false;
    });
    expect(collections).toBe(400);
  });

  it("returns the block the host wrote a body into, without a copy", () => {
    duringRequestBody("0123456789", () => {
      const bytes = requestBody.bytes();
      expect(changetype<usize>(bytes)).toBe(lastBlock);
      expect(bytes.byteLength).toBe(10);
      // Other reads still get (and free) raw blocks.
      expect(requestBody.text()).toBe("0123456789");
      expect(String.UTF8.decode(requestBody.bytes())).toBe("0123456789");
    });
  });

  it("frees every block it receives (memory stays flat)", () => {
    duringRequestHeaders(Headers.of([["x-a", "a value that is long enough to matter in the heap"]]), () => {
      for (let i = 0; i < 1000; i++) requestHeaders.get("x-a");
      __collect();
      count = memory.size();
      for (let i = 0; i < 20000; i++) requestHeaders.get("x-a");
      __collect();
      expect(memory.size()).toBe(count);
    });
  });

  it("leaves no body read behind once collected (memory stays flat)", () => {
    duringRequestBody("a body long enough to matter in the heap, read again and again", () => {
      // Each read is garbage once dropped; collected every 1,000 reads, as callbacks would.
      for (let i = 0; i < 1000; i++) requestBody.bytes();
      __collect();
      count = memory.size();
      for (let i = 1; i <= 20000; i++) {
        requestBody.bytes();
        if (i % 1000 == 0) __collect();
      }
      expect(memory.size()).toBe(count);
    });
  });
});
