// Bytes cross the JS boundary as "byte strings": one UTF-16 code unit (0..255) per byte. Both
// sides convert at their edge, so header values and bodies that are not UTF-8 survive the trip
// without a second import per type, and the string transport (and its error protocol) is reused.

/** The byte string of `bytes`. */
export function bytesToWire(bytes: ArrayBuffer): string {
  const length = bytes.byteLength;
  if (length == 0) return "";
  const out = changetype<string>(__new(<usize>length << 1, idof<String>()));
  const from = changetype<usize>(bytes);
  const to = changetype<usize>(out);
  for (let i = 0; i < length; i++) store<u16>(to + (<usize>i << 1), load<u8>(from + <usize>i));
  return out;
}

/** The bytes of a byte string; aborts on a code unit above 255 (not a byte string: a host bug). */
export function wireToBytes(wire: string): ArrayBuffer {
  const length = wire.length;
  const out = new ArrayBuffer(length);
  const to = changetype<usize>(out);
  for (let i = 0; i < length; i++) {
    const unit = wire.charCodeAt(i);
    if (unit > 255) throw new Error("malformed byte string from the host at offset " + i.toString());
    store<u8>(to + <usize>i, <u8>unit);
  }
  return out;
}

/** The byte string of `text` encoded as UTF-8. */
export function textToWire(text: string): string {
  return bytesToWire(String.UTF8.encode(text));
}

/** A byte string decoded as UTF-8 (invalid sequences as AssemblyScript's decoder makes them). */
export function wireToText(wire: string): string {
  return String.UTF8.decode(wireToBytes(wire));
}
