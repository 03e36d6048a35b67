import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OutgoingFrameScanner } from "../../src/proxy/h2-goaway-watch";

function frame(type: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

function goaway(code: number, debug = ""): Buffer {
  const payload = Buffer.alloc(8 + debug.length);
  payload.writeUInt32BE(3, 0);
  payload.writeUInt32BE(code, 4);
  payload.write(debug, 8, "latin1");
  return frame(7, 0, payload);
}

describe("outgoing HTTP/2 frame scanner", () => {
  it("finds a GOAWAY's error code however the bytes are split, and skips payloads that look like frames", () => {
    // A DATA payload holding the bytes of a GOAWAY frame must not be read as one.
    const bytes = Buffer.concat([frame(4, 0, Buffer.alloc(0)), frame(0, 1, goaway(2)), goaway(1, "DATA: stream_id == 0")]);
    for (const size of [1, 2, 7, 9, 10, bytes.length]) {
      const scanner = new OutgoingFrameScanner();
      const found: number[] = [];
      for (let at = 0; at < bytes.length; at += size) {
        const code = scanner.scan(bytes.subarray(at, at + size));
        if (code !== undefined) found.push(code);
      }
      assert.deepEqual(found, [1], `chunks of ${size}`);
    }
  });

  it("reports a graceful GOAWAY as NO_ERROR (0)", () => {
    assert.equal(new OutgoingFrameScanner().scan(goaway(0)), 0);
  });
});
