// Lists crossing to and from the JS host: each field is `<length>:<text>`, the length in UTF-16
// code units (both sides count strings that way), fields concatenated. A pair list alternates
// name and value. A length prefix needs no escaping, so any header value or log text survives.

/** Encodes `fields` as one string. */
export function encodeFields(fields: string[]): string {
  let out = "";
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    out += field.length.toString() + ":" + field;
  }
  return out;
}

/** Decodes a field list from the host; aborts on text that is not one (a host bug). */
export function decodeFields(text: string): string[] {
  const fields = new Array<string>();
  let at = 0;
  while (at < text.length) {
    let length = 0;
    let digit = at;
    // 48..57 are '0'..'9'; 58 is ':'.
    while (digit < text.length && text.charCodeAt(digit) >= 48 && text.charCodeAt(digit) <= 57) {
      length = length * 10 + (text.charCodeAt(digit) - 48);
      digit++;
    }
    if (digit == at || digit >= text.length || text.charCodeAt(digit) != 58) {
      throw new Error("malformed field list from the host at offset " + at.toString());
    }
    const start = digit + 1;
    if (start + length > text.length) throw new Error("malformed field list from the host: a length runs past the end");
    fields.push(text.substring(start, start + length));
    at = start + length;
  }
  return fields;
}
