import { ConfigError } from "./dev-proxy-config";

/** RE2's POSIX classes, as JavaScript class contents (ASCII only, as in RE2). */
const POSIX_CLASSES: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

/**
 * Translates an RE2 pattern (Envoy's `safe_regex` with the `google_re2` engine) into the source
 * of an equivalent JavaScript RegExp, for the subset where both agree: literals, classes,
 * `\d \w \s \b` and their negations, anchors, groups (`(?:…)`, `(?P<name>…)`, `(?<name>…)`),
 * alternation, greedy and lazy repetition, POSIX classes (`[[:alpha:]]`), `\A`, `\z`, and a
 * leading `(?i)`.
 *
 * @returns `{ source, flags }` for `new RegExp` (flags: `""` or `"i"`).
 * @throws ConfigError (naming `where`) for what RE2 and JavaScript read differently or what
 *   JavaScript lacks: other inline flags, `\Q…\E`, `\C`, `\pN`/`\p{…}` classes, and a pattern
 *   JavaScript will not compile.
 */
export function re2ToJavaScript(pattern: string, where: string): { source: string; flags: string } {
  let flags = "";
  let rest = pattern;
  const leading = /^\(\?([a-zA-Z]+)\)/.exec(rest);
  if (leading) {
    if (leading[1] !== "i") throw new ConfigError(`${where}: the inline flags (?${leading[1]}) cannot be mapped to a JavaScript regex`);
    flags = "i";
    rest = rest.slice(leading[0].length);
  }
  let out = "";
  let inClass = false;
  for (let i = 0; i < rest.length; i++) {
    const char = rest[i];
    if (char === "\\") {
      const next = rest[i + 1];
      if (next === undefined) throw new ConfigError(`${where}: the pattern ends with a lone backslash`);
      if (next === "Q" || next === "E" || next === "C" || next === "p" || next === "P" || next === "z" && inClass || next === "A" && inClass) {
        throw new ConfigError(`${where}: \\${next} cannot be mapped to a JavaScript regex`);
      }
      if (!inClass && next === "A") out += "^";
      else if (!inClass && next === "z") out += "$"; // without the m flag both end only at the very end
      else out += char + next;
      i++;
      continue;
    }
    if (inClass) {
      if (char === "[" && rest[i + 1] === ":") {
        const end = rest.indexOf(":]", i + 2);
        const name = end < 0 ? "" : rest.slice(i + 2, end);
        const negated = name.startsWith("^");
        const cls = POSIX_CLASSES[negated ? name.slice(1) : name];
        if (cls === undefined || negated) throw new ConfigError(`${where}: the class [:${name}:] cannot be mapped to a JavaScript regex`);
        out += cls;
        i = end + 1;
        continue;
      }
      if (char === "]") inClass = false;
      out += char;
      continue;
    }
    if (char === "[") {
      inClass = true;
      out += char;
      if (rest[i + 1] === "^") out += rest[++i];
      // A `]` right after `[` or `[^` is a literal in RE2, and must be escaped in JavaScript.
      if (rest[i + 1] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (char === "(" && rest[i + 1] === "?") {
      if (rest.startsWith("(?P<", i)) {
        out += "(?<";
        i += 3;
        continue;
      }
      if (rest[i + 2] !== ":" && rest[i + 2] !== "<") throw new ConfigError(`${where}: the group (?${rest[i + 2]}… cannot be mapped to a JavaScript regex`);
    }
    out += char;
  }
  const source = `^(?:${out})$`;
  try {
    new RegExp(source, flags);
  } catch (error) {
    throw new ConfigError(`${where}: not a regex JavaScript can run: ${(error as Error).message}`);
  }
  return { source, flags };
}
