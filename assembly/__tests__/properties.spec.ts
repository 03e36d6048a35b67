import {
  getProperty, getPropertyString, getPropertyI64, getPropertyU64, getPropertyF64, getPropertyBool, getPropertyMap,
  setPropertyString, attributes, lastResult, WasmResult,
} from "../index";
import { Headers, Properties } from "../testing";
import { aRequest, duringRequestHeaders } from "./spec-filter";
import { bytesOf, hexOf } from "./bytes";

export * from "../exports";

describe("properties", () => {
  it("joins path segments with NUL and no trailing NUL", () => {
    // The host splits the path at NULs: a wrong join or a trailing NUL would name another property.
    duringRequestHeaders(Headers.of([[":method", "GET"], [":path", "/a/b"], [":authority", "spec"]]), () => {
      expect(getPropertyString(["request", "path"])).toBe("/a/b");
      expect(getPropertyString(["spec_value"])).toBe("top");
      expect(getPropertyString(["spec", "nested", "leaf"])).toBe("deep");
    }, new Properties().string(["spec_value"], "top").string(["spec", "nested", "leaf"], "deep"));
  });

  it("decodes strings, and null with NotFound when absent", () => {
    duringRequestHeaders(Headers.of([[":path", "/a?b=1"], [":authority", "spec"]]), () => {
      expect(attributes.requestPath()).toBe("/a?b=1");
      // No x-request-id header: Envoy has no request.id then.
      expect(attributes.requestId()).toBeNull();
      expect(lastResult()).toBe(WasmResult.NotFound);
    });
  });

  it("reads each string attribute from the property its segments name (paths passed pre-joined)", () => {
    duringRequestHeaders(aRequest(), () => {
      expect(attributes.xdsNodeId()).toBe("node-7");
      expect(attributes.xdsRouteName()).toBe("route-3");
      expect(attributes.requestMethod()).toBe(getPropertyString(["request", "method"]));
    }, new Properties().string(["xds", "node", "id"], "node-7").string(["xds", "route_name"], "route-3"));
  });

  it("decodes an empty string value as empty, not absent", () => {
    duringRequestHeaders(aRequest(), () => {
      expect(attributes.requestQuery()).toBe("");
      expect(lastResult()).toBe(WasmResult.Ok);
    }, new Properties().string(["request", "query"], ""));
  });

  it("decodes int64, uint64 and double as 8 bytes little-endian", () => {
    duringRequestHeaders(aRequest(), () => {
      expect(attributes.sourcePort()).toBe(50000);
      expect(getPropertyI64(["neg"])).toBe(-2);
      expect(attributes.connectionId()).toBe(u64.MAX_VALUE);
      expect(getPropertyF64(["ratio"])).toBe(1.5);
    }, new Properties()
      .int(["source", "port"], 50000)
      .int(["neg"], -2)
      .bytes(["connection", "id"], bytesOf([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))
      .bytes(["ratio"], bytesOf([0, 0, 0, 0, 0, 0, 0xf8, 0x3f])));
  });

  it("decodes timestamps and durations as int64 nanoseconds", () => {
    duringRequestHeaders(aRequest(), () => {
      expect(attributes.requestTime()).toBe(1700000000123456789);
    }, new Properties().int(["request", "time"], 1700000000123456789));
  });

  it("gives 0 for a too-short numeric value and an absent one", () => {
    duringRequestHeaders(aRequest(), () => {
      expect(getPropertyU64(["short"])).toBe(0);
      expect(getPropertyI64(["missing"])).toBe(0);
      expect(lastResult()).toBe(WasmResult.NotFound);
    }, new Properties().bytes(["short"], bytesOf([1, 2, 3])));
  });

  it("decodes bool as one byte", () => {
    duringRequestHeaders(aRequest(), () => {
      expect(attributes.connectionMtls()).toBe(true);
    }, new Properties().bool(["connection", "mtls"], true));
    duringRequestHeaders(aRequest(), () => {
      expect(attributes.connectionMtls()).toBe(false);
      expect(getPropertyBool(["absent"])).toBe(false);
    }, new Properties().bool(["connection", "mtls"], false));
  });

  it("decodes maps as pairs", () => {
    const map = bytesOf([2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x6b, 0, 0x76, 0, 0x6b, 0x32, 0, 0]);
    duringRequestHeaders(aRequest(), () => {
      const entries = getPropertyMap(["xds", "node", "metadata"])!;
      expect(entries.length).toBe(2);
      expect(entries[0].key).toBe("k");
      expect(entries[0].value).toBe("v");
      expect(entries[1].key).toBe("k2");
      expect(entries[1].valueBytes.byteLength).toBe(0);
      expect(getPropertyMap(["nothing"]) === null).toBe(true);
    }, new Properties().bytes(["xds", "node", "metadata"], map));
  });

  it("returns raw bytes unchanged", () => {
    duringRequestHeaders(aRequest(), () => {
      expect(hexOf(getProperty(["raw"])!)).toBe("ff 00 7f");
    }, new Properties().bytes(["raw"], bytesOf([0xff, 0x00, 0x7f])));
  });

  it("writes a property that reads back", () => {
    duringRequestHeaders(aRequest(), () => {
      expect(setPropertyString("my_key", "my value")).toBe(WasmResult.Ok);
      expect(getPropertyString(["my_key"])).toBe("my value");
    });
  });
});
