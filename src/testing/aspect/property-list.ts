/**
 * Property values from an AssemblyScript spec (`Properties.encode()` in
 * assembly/testing/properties.ts): a field list of triples `kind, path, value`, the path itself a
 * field list of segments. Kinds: `s` string, `b` bytes (a byte string), `i` int64 (decimal),
 * `t` / `f` bool, `n` absent (null, which hides an attribute).
 */
import type { PropertyTree, PropertyValue } from "../../host";
import { wireToBytes } from "./byte-wire";
import { decodeFields } from "./field-list";

type MutableTree = { [name: string]: PropertyValue };

function parseValue(kind: string, value: string, where: string): PropertyValue {
  switch (kind) {
    case "s":
      return value;
    case "b":
      return wireToBytes(value);
    case "i":
      if (!/^-?[0-9]+$/.test(value)) throw new Error(`property ${where}: "${value}" is not an integer`);
      return BigInt.asIntN(64, BigInt(value));
    case "t":
      return true;
    case "f":
      return false;
    case "n":
      return null;
    default:
      throw new Error(`property ${where}: unknown kind "${kind}" (expected s, b, i, t, f or n)`);
  }
}

/** Builds the tree; throws an Error naming the path of a bad entry or of a value under a value. */
export function decodePropertyList(text: string): PropertyTree {
  const fields = decodeFields(text);
  if (fields.length % 3 !== 0) throw new Error(`malformed property list: ${fields.length} fields, expected triples`);
  const tree: MutableTree = {};
  for (let i = 0; i < fields.length; i += 3) {
    const path = decodeFields(fields[i + 1]);
    const where = path.join(" / ");
    if (path.length === 0) throw new Error("property: a path needs at least one segment");
    let node = tree;
    for (const segment of path.slice(0, -1)) {
      const next = node[segment];
      if (next === undefined) {
        const child: MutableTree = {};
        node[segment] = child;
        node = child;
      } else if (typeof next === "object" && next !== null && !(next instanceof Uint8Array) && !Array.isArray(next) && !(next instanceof Date) && !("duration" in next)) {
        node = next as MutableTree;
      } else {
        throw new Error(`property ${where}: "${segment}" already holds a value`);
      }
    }
    node[path[path.length - 1]] = parseValue(fields[i], fields[i + 2], where);
  }
  return tree;
}
