/**
 * A minimal ustar writer and reader: enough for an image layer (`plugin.wasm`) and an OCI
 * layout archive. Writing only regular files and directories with fixed owner and mtime keeps
 * the output byte-for-byte reproducible.
 */

const BLOCK = 512;

/** One archive member. Directories have no `data` and a name ending in `/`. */
export interface TarEntry {
  name: string;
  data?: Uint8Array;
  /** Permission bits; default 0o644 for files, 0o755 for directories. */
  mode?: number;
  /** Seconds since the epoch; default 0 so archives are reproducible. */
  mtime?: number;
}

/** Serialises `entries` in order, ending with the two zero blocks ustar requires. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const isDirectory = entry.name.endsWith("/");
    const data = isDirectory ? new Uint8Array(0) : (entry.data ?? new Uint8Array(0));
    parts.push(header(entry, isDirectory, data.length));
    if (data.length > 0) {
      parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      const padding = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (padding > 0) parts.push(Buffer.alloc(padding));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function header(entry: TarEntry, isDirectory: boolean, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const { name, prefix } = splitName(entry.name);
  block.write(name, 0, 100, "utf8");
  writeOctal(block, 100, 8, entry.mode ?? (isDirectory ? 0o755 : 0o644));
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, entry.mtime ?? 0);
  block.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  block.write(isDirectory ? "5" : "0", 156, 1, "latin1");
  block.write("ustar\u000000", 257, 8, "latin1");
  block.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "latin1");
  return block;
}

/** ustar keeps names up to 100 bytes, or a 155-byte prefix plus a 100-byte name split at a `/`. */
function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  for (let cut = path.indexOf("/"); cut > 0; cut = path.indexOf("/", cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { name, prefix };
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, "0")}\u0000`, offset, width, "latin1");
}

/**
 * Reads the regular files and directories of a ustar (or plain v7) archive. Other member
 * types (links, pax headers) are skipped; a bad checksum or truncated member throws.
 */
export function readTar(archive: Uint8Array): TarEntry[] {
  const bytes = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const entries: TarEntry[] = [];
  let offset = 0;
  while (offset + BLOCK <= bytes.length) {
    const block = bytes.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) break;
    const stored = parseOctal(block, 148, 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
    if (stored !== sum) throw new Error(`tar: bad header checksum at offset ${offset}`);
    const size = parseOctal(block, 124, 12);
    const type = String.fromCharCode(block[156] || 0x30);
    const prefix = cString(block, 345, 155);
    const base = cString(block, 0, 100);
    const name = prefix ? `${prefix}/${base}` : base;
    const start = offset + BLOCK;
    if (start + size > bytes.length) throw new Error(`tar: member ${name} is truncated`);
    if (type === "0" || type === "\u0000") {
      entries.push({ name, data: new Uint8Array(bytes.subarray(start, start + size)), mode: parseOctal(block, 100, 8), mtime: parseOctal(block, 136, 12) });
    } else if (type === "5") {
      entries.push({ name: name.endsWith("/") ? name : `${name}/`, mode: parseOctal(block, 100, 8), mtime: parseOctal(block, 136, 12) });
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}

function parseOctal(block: Buffer, offset: number, width: number): number {
  const text = cString(block, offset, width).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function cString(block: Buffer, offset: number, width: number): string {
  const field = block.subarray(offset, offset + width);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? width : end).toString("utf8");
}
