// An ordered list of header (or trailer, or metadata) pairs, as a spec writes them and as the
// host reports them back. Order and duplicates are kept, because both are part of what a filter
// does to a request.

import { decodeFields, encodeFields } from "./field_list";

export class Headers {
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

  /** Decodes the host's pair list (see field_list.ts). */
  static decode(text: string): Headers {
    const fields = decodeFields(text);
    if (fields.length % 2 != 0) throw new Error("malformed pair list from the host: odd field count");
    const headers = new Headers();
    for (let i = 0; i < fields.length; i += 2) headers.add(fields[i], fields[i + 1]);
    return headers;
  }

  /** Appends a pair (duplicates allowed); returns this for chaining. */
  add(name: string, value: string): Headers {
    this.names.push(name);
    this.values.push(value);
    return this;
  }

  /** Number of pairs. */
  get length(): i32 {
    return this.names.length;
  }

  /** Name of pair `index`; aborts when out of range. */
  name(index: i32): string {
    return this.names[index];
  }

  /** Value of pair `index`; aborts when out of range. */
  value(index: i32): string {
    return this.values[index];
  }

  /** The first value of `name` (compared lower-cased, as Envoy stores names), or null. */
  get(name: string): string | null {
    const wanted = name.toLowerCase();
    for (let i = 0; i < this.names.length; i++) {
      if (this.names[i].toLowerCase() == wanted) return this.values[i];
    }
    return null;
  }

  /** Every value of `name`, in order; empty when absent. */
  getAll(name: string): string[] {
    const wanted = name.toLowerCase();
    const found = new Array<string>();
    for (let i = 0; i < this.names.length; i++) {
      if (this.names[i].toLowerCase() == wanted) found.push(this.values[i]);
    }
    return found;
  }

  has(name: string): bool {
    return this.get(name) !== null;
  }

  /**
   * One `name: value` line per pair, joined with "\n": compare a whole header list with one
   * `expect(...).toBe(...)` (as-pect cannot compare class instances on AssemblyScript 0.28).
   */
  toString(): string {
    const lines = new Array<string>();
    for (let i = 0; i < this.names.length; i++) lines.push(this.names[i] + ": " + this.values[i]);
    return lines.join("\n");
  }

  /** The pair list sent to the host. */
  encode(): string {
    const fields = new Array<string>();
    for (let i = 0; i < this.names.length; i++) {
      fields.push(this.names[i]);
      fields.push(this.values[i]);
    }
    return encodeFields(fields);
  }
}
