// An ordered list of header (or trailer, or metadata) pairs, as a spec writes them and as the
// host reports them back. Order and duplicates are kept, because both are part of what a filter
// does to a request. Pairs are held as bytes (see bytes.ts), because Envoy's header values are
// bytes: the string accessors decode UTF-8, the `...Bytes` ones give the bytes as they are.

import { bytesToWire, textToWire, wireToBytes, wireToText } from "./bytes";
import { decodeFields, encodeFields } from "./field_list";

export class Headers {
  // Byte strings (see bytes.ts), the form the host sends and takes.
  private names: string[] = [];
  private values: string[] = [];

  /** From `[[name, value], ...]`; aborts when an entry is not exactly two strings. */
  static of(pairs: string[][]): Headers {
    const headers = new Headers();
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i];
      if (pair.length != 2) throw new Error("Headers.of: entry " + i.toString() + " has " + pair.length.toString() + " strings, expected [name, value]");
      headers.add(pair[0], pair[1]);
    }
    return headers;
  }

  /** Decodes the host's pair list of byte strings (see field_list.ts and bytes.ts). */
  static decode(text: string): Headers {
    const fields = decodeFields(text);
    if (fields.length % 2 != 0) throw new Error("malformed pair list from the host: odd field count");
    const headers = new Headers();
    for (let i = 0; i < fields.length; i += 2) {
      headers.names.push(fields[i]);
      headers.values.push(fields[i + 1]);
    }
    return headers;
  }

  /** Appends a pair (value sent as UTF-8; duplicates allowed); returns this for chaining. */
  add(name: string, value: string): Headers {
    this.names.push(textToWire(name));
    this.values.push(textToWire(value));
    return this;
  }

  /** Appends a pair whose value is raw bytes (need not be UTF-8); returns this for chaining. */
  addBytes(name: string, value: ArrayBuffer): Headers {
    this.names.push(textToWire(name));
    this.values.push(bytesToWire(value));
    return this;
  }

  /** Number of pairs. */
  get length(): i32 {
    return this.names.length;
  }

  /** Name of pair `index`; aborts when out of range. */
  name(index: i32): string {
    return wireToText(this.names[index]);
  }

  /** Value of pair `index`, UTF-8 decoded; aborts when out of range. */
  value(index: i32): string {
    return wireToText(this.values[index]);
  }

  /** Value of pair `index` as bytes; aborts when out of range. */
  valueBytes(index: i32): ArrayBuffer {
    return wireToBytes(this.values[index]);
  }

  /** Index of the first pair named `name` (compared lower-cased, as Envoy stores names), or -1. */
  private indexOf(name: string): i32 {
    const wanted = name.toLowerCase();
    for (let i = 0; i < this.names.length; i++) {
      if (this.name(i).toLowerCase() == wanted) return i;
    }
    return -1;
  }

  /** The first value of `name`, UTF-8 decoded, or null. */
  get(name: string): string | null {
    const index = this.indexOf(name);
    return index < 0 ? null : this.value(index);
  }

  /** The first value of `name` as bytes, or null. */
  getBytes(name: string): ArrayBuffer | null {
    const index = this.indexOf(name);
    return index < 0 ? null : this.valueBytes(index);
  }

  /** Every value of `name`, in order; empty when absent. */
  getAll(name: string): string[] {
    const wanted = name.toLowerCase();
    const found = new Array<string>();
    for (let i = 0; i < this.names.length; i++) {
      if (this.name(i).toLowerCase() == wanted) found.push(this.value(i));
    }
    return found;
  }

  has(name: string): bool {
    return this.indexOf(name) >= 0;
  }

  /**
   * One `name: value` line per pair, joined with "\n": compare a whole header list with one
   * `expect(...).toBe(...)` (as-pect cannot compare class instances on AssemblyScript 0.28).
   */
  toString(): string {
    const lines = new Array<string>();
    for (let i = 0; i < this.names.length; i++) lines.push(this.name(i) + ": " + this.value(i));
    return lines.join("\n");
  }

  /** The pair list of byte strings sent to the host. */
  encode(): string {
    const fields = new Array<string>();
    for (let i = 0; i < this.names.length; i++) {
      fields.push(this.names[i]);
      fields.push(this.values[i]);
    }
    return encodeFields(fields);
  }
}
