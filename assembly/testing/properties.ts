// Property values a spec gives the host (for every stream) or one stream or connection: the
// values Envoy would compute from its configuration, e.g. route metadata or the upstream address.
// A path is the list of segments the filter passes to `proxy_get_property`, so segments may
// contain dots ("envoy.filters.http.wasm").

import { bytesToWire } from "./bytes";
import { encodeFields } from "./field_list";

export class Properties {
  // Triples: kind ("s" string, "b" bytes, "i" int64, "t"/"f" bool, "n" absent), the path as a
  // field list, the value (bytes as a byte string, see bytes.ts).
  private fields: string[] = [];

  private put(kind: string, path: string[], value: string): Properties {
    if (path.length == 0) throw new Error("Properties: a path needs at least one segment");
    this.fields.push(kind);
    this.fields.push(encodeFields(path));
    this.fields.push(value);
    return this;
  }

  /** A string value at `path` (read by the filter as UTF-8 bytes). */
  string(path: string[], value: string): Properties { return this.put("s", path, value); }
  /** A bytes value at `path`, passed to the filter as is. */
  bytes(path: string[], value: ArrayBuffer): Properties { return this.put("b", path, bytesToWire(value)); }
  /** An int64 value at `path` (8 bytes little-endian, as Envoy encodes CEL ints). */
  int(path: string[], value: i64): Properties { return this.put("i", path, value.toString()); }
  /** A bool value at `path` (one byte). */
  bool(path: string[], value: bool): Properties { return this.put(value ? "t" : "f", path, ""); }
  /** Hides the attribute at `path` (the filter gets NotFound), e.g. a computed one. */
  absent(path: string[]): Properties { return this.put("n", path, ""); }

  /** The wire form for the host. */
  encode(): string {
    return encodeFields(this.fields);
  }
}
