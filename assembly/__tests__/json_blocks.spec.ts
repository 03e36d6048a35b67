// The readers take plain ASCII several bytes at a time (eight in json.ts stringEnd and utf8.ts
// widenAscii, four in utf16Walk and asciiEqualsUnits): what stops a block must be found at every
// place in it, across two eight-byte blocks and the bytes after them. Its own module:
// parseConfig with a second class would make a second schema (see plugin_config.spec.ts).
import { parseConfigText, configError } from "../api/plugin_config";
import { parseJson, parseJsonText, jsonError } from "../api/json";
import { bytesOf } from "./bytes";

export * from "../exports";

/** Two fields whose names differ only at their end, and a list of strings. */
// @ts-ignore: decorator
@pluginConfig
class BlockConfig {
  alpha_beta_gamma_1: string = "";
  alpha_beta_gamma_2: string = "";
  items: Array<string> = [];
}

// How many places: two blocks of eight and three bytes after them.
const PLACES = 19;

/** "a" * at + `middle` + "a" * (PLACES - 1 - at): the special text at each place. */
function placed(at: i32, middle: string): string {
  return "a".repeat(at) + middle + "a".repeat(PLACES - 1 - at);
}


describe("strings read several bytes at a time", () => {
  it("finds a control character, a quote, a backslash and a non-ASCII byte at every place in a block", () => {
    let wrong = "";
    for (let at = 0; at < PLACES; at++) {
      if (parseJsonText('"' + placed(at, "\u0001") + '"') !== null) wrong += "control@" + at.toString() + " ";
      else if (jsonError() != "control character in a string (1:" + (at + 2).toString() + ")") wrong += jsonError() + " ";
      if (parseJsonText('"' + placed(at, '"') + '"') !== null) wrong += "quote@" + at.toString() + " ";
      const escaped = parseJsonText('"' + placed(at, "\\n") + '"');
      if (escaped === null || escaped.asString() != placed(at, "\n")) wrong += "escape@" + at.toString() + " ";
      const accented = parseJsonText('"' + placed(at, "\u00e9") + '"');
      if (accented === null || accented.asString() != placed(at, "\u00e9")) wrong += "accent@" + at.toString() + " ";
    }
    expect(wrong).toBe("");
  });

  it("refuses a byte that is not UTF-8 at every place in a block", () => {
    let wrong = "";
    for (let at = 0; at < PLACES; at++) {
      const bytes = new Array<i32>();
      bytes.push(0x22);
      for (let i = 0; i < PLACES; i++) bytes.push(i == at ? 0xff : 0x61);
      bytes.push(0x22);
      if (parseJson(bytesOf(bytes)) !== null) wrong += at.toString() + " ";
    }
    expect(wrong).toBe("");
  });

  it("reads keys that differ at their last byte and items with an escaped quote at every place", () => {
    let wrong = "";
    for (let at = 0; at < PLACES; at++) {
      const item = placed(at, '\\"');
      const config = parseConfigText<BlockConfig>('{"alpha_beta_gamma_2":"two","alpha_beta_gamma_1":"one","items":["' + item + '","' + placed(at, "b") + '"]}');
      if (config === null) {
        wrong += configError() + " ";
        continue;
      }
      if (config.alpha_beta_gamma_1 != "one" || config.alpha_beta_gamma_2 != "two") wrong += "keys@" + at.toString() + " ";
      if (config.items.length != 2 || config.items[0] != placed(at, '"') || config.items[1] != placed(at, "b")) wrong += "items@" + at.toString() + " ";
    }
    expect(wrong).toBe("");
  });
});
