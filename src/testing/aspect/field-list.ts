/**
 * The text form in which lists of strings (header pairs, log messages, option pairs) cross the
 * boundary between the AssemblyScript spec and the JS host: each field is written as
 * `<length>:<text>`, with the length in UTF-16 code units, fields concatenated. A pair list is a
 * field list of even length (name, value, name, value, ...).
 *
 * Why not a separator: header values and log messages may contain any character, and a length
 * prefix needs no escaping on either side. UTF-16 lengths because both AssemblyScript and JS
 * strings are UTF-16, so neither side has to re-encode to count.
 */

/** Encodes `fields` as one string. */
export function encodeFields(fields: readonly string[]): string {
  let out = "";
  for (const field of fields) out += `${field.length}:${field}`;
  return out;
}

/** Encodes `[name, value]` pairs as a field list. */
export function encodePairList(pairs: readonly (readonly [string, string])[]): string {
  return encodeFields(pairs.flat());
}

/**
 * Decodes a field list. Throws an Error naming the offset when the text is not a field list
 * (a length that is missing, not decimal or runs past the end).
 */
export function decodeFields(text: string): string[] {
  const fields: string[] = [];
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(":", at);
    const digits = colon < 0 ? "" : text.slice(at, colon);
    if (!/^[0-9]+$/.test(digits)) throw new Error(`malformed field list at offset ${at}: expected <length>:`);
    const length = Number(digits);
    const end = colon + 1 + length;
    if (end > text.length) throw new Error(`malformed field list at offset ${at}: length ${length} runs past the end`);
    fields.push(text.slice(colon + 1, end));
    at = end;
  }
  return fields;
}

/** Decodes a pair list; throws when the field count is odd. */
export function decodePairList(text: string): [string, string][] {
  const fields = decodeFields(text);
  if (fields.length % 2 !== 0) throw new Error(`malformed pair list: ${fields.length} fields, expected an even count`);
  const pairs: [string, string][] = [];
  for (let i = 0; i < fields.length; i += 2) pairs.push([fields[i], fields[i + 1]]);
  return pairs;
}
