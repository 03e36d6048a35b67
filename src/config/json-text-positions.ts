// Positions inside a JSON text, so that a configuration check can say where a wrong value is,
// (line:column) as the SDK's in-module parser does, and a syntax error is reported at its place
// whatever Node's JSON.parse message looks like (Node 20 gives no position for many errors).

/** A place in the text: 1-based line and column, counted in characters (code points). */
export interface TextPosition {
  line: number;
  column: number;
}

/** What scanning a JSON text found: the position of every value (and key) by JSON pointer, or the first syntax error. */
export interface JsonTextScan {
  /** Start of each value, by JSON pointer ("" is the root, "/a/0" the first item of a). */
  values: Map<string, TextPosition>;
  /** Start of each member's key (the opening quote), by the member's JSON pointer. */
  keys: Map<string, TextPosition>;
  /** Each value's text as written (a number keeps all its digits), by JSON pointer. */
  texts: Map<string, string>;
  /** The first syntax error (RFC 8259), or undefined when the text is JSON. */
  error?: { message: string; position: TextPosition };
}

/** Scans `text` as one JSON value (RFC 8259: no comments, no trailing commas). Never throws. */
export function scanJsonText(text: string): JsonTextScan {
  const scan: JsonTextScan = { values: new Map(), keys: new Map(), texts: new Map() };
  const chars = Array.from(text);
  let index = 0;
  const lineStarts = [0];
  for (let i = 0; i < chars.length; i++) if (chars[i] === "\n") lineStarts.push(i + 1);
  const positionOf = (at: number): TextPosition => {
    let line = lineStarts.length - 1;
    while (lineStarts[line] > at) line--;
    return { line: line + 1, column: at - lineStarts[line] + 1 };
  };
  class SyntaxProblem extends Error {
    constructor(message: string, readonly at: number) {
      super(message);
    }
  }
  const fail = (message: string, at = index): never => {
    throw new SyntaxProblem(message, at);
  };
  const unexpected = (): never => (index >= chars.length ? fail("unexpected end of the text") : fail(`unexpected character ${JSON.stringify(chars[index])}`));
  const skipSpace = () => {
    while (index < chars.length && (chars[index] === " " || chars[index] === "\t" || chars[index] === "\n" || chars[index] === "\r")) index++;
  };
  const literal = (word: string) => {
    for (const char of word) {
      if (chars[index] !== char) unexpected();
      index++;
    }
  };
  const string = (): string => {
    index++; // the opening quote
    let out = "";
    for (;;) {
      if (index >= chars.length) fail("unterminated string");
      const char = chars[index];
      if (char === '"') {
        index++;
        return out;
      }
      if (char.codePointAt(0)! < 0x20) fail("control character in a string (escape it)");
      if (char !== "\\") {
        out += char;
        index++;
        continue;
      }
      const escape = chars[index + 1];
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (escape !== undefined && escape in simple) {
        out += simple[escape];
        index += 2;
      } else if (escape === "u" && /^[0-9a-fA-F]{4}$/.test(chars.slice(index + 2, index + 6).join(""))) {
        out += String.fromCharCode(parseInt(chars.slice(index + 2, index + 6).join(""), 16));
        index += 6;
      } else {
        fail("invalid escape in a string");
      }
    }
  };
  const number = () => {
    const rest = chars.slice(index, index + 400).join("");
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(rest);
    if (!match) unexpected();
    index += match![0].length;
  };
  const value = (pointer: string, depth: number): void => {
    if (depth > 512) fail("nested too deeply");
    skipSpace();
    scan.values.set(pointer, positionOf(index));
    const start = index;
    valueBody(pointer, depth);
    scan.texts.set(pointer, chars.slice(start, index).join(""));
  };
  const valueBody = (pointer: string, depth: number): void => {
    const char = chars[index];
    if (char === "{") {
      index++;
      skipSpace();
      if (chars[index] === "}") {
        index++;
        return;
      }
      for (;;) {
        skipSpace();
        if (chars[index] !== '"') fail(index >= chars.length ? "unexpected end of the text" : "expected a string key");
        const keyAt = index;
        const key = string();
        const member = `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
        scan.keys.set(member, positionOf(keyAt));
        skipSpace();
        if (chars[index] !== ":") fail(index >= chars.length ? "unexpected end of the text" : "expected ':' after a key");
        index++;
        value(member, depth + 1);
        skipSpace();
        if (chars[index] === ",") {
          index++;
          continue;
        }
        if (chars[index] === "}") {
          index++;
          return;
        }
        unexpected();
      }
    }
    if (char === "[") {
      index++;
      skipSpace();
      if (chars[index] === "]") {
        index++;
        return;
      }
      for (let item = 0; ; item++) {
        value(`${pointer}/${item}`, depth + 1);
        skipSpace();
        if (chars[index] === ",") {
          index++;
          continue;
        }
        if (chars[index] === "]") {
          index++;
          return;
        }
        unexpected();
      }
    }
    if (char === '"') return void string();
    if (char === "t") return literal("true");
    if (char === "f") return literal("false");
    if (char === "n") return literal("null");
    if (char === "-" || (char !== undefined && char >= "0" && char <= "9")) return number();
    unexpected();
  };
  try {
    value("", 0);
    skipSpace();
    if (index < chars.length) fail(`unexpected character ${JSON.stringify(chars[index])} after the JSON value`);
  } catch (error) {
    if (!(error instanceof SyntaxProblem)) throw error;
    scan.error = { message: error.message, position: positionOf(error.at) };
  }
  return scan;
}

/** `(line:column)`, the form the SDK's parser and this check use in messages. */
export function formatPosition(position: TextPosition): string {
  return `(${position.line}:${position.column})`;
}
