/**
 * A filter that spoils the response `:status` (issue #12, fault 1): the dev proxy answers as Envoy
 * does, with a 502, instead of resetting the stream, over HTTP/1.1 and h2c, with the filter on the
 * listener's thread and in worker threads.
 *
 * Envoy: `FilterManager::encodeHeaders` (envoy source/common/http/filter_manager.cc) runs
 * `HeaderUtility::checkRequiredResponseHeaders` (envoy source/common/http/header_utility.cc) after
 * the encoder filters; a `:status` that is missing or not a number gets a 502 with body
 * `missing required header: :status`, sent past the filters (`sendDirectLocalReply`). Numbers pass
 * that check and Envoy's HTTP/1 codec writes them as they are (`ResponseEncoderImpl::encodeHeaders`,
 * envoy source/common/http/http1/codec_impl.cc); Node's codecs cannot write every number (99, 1000;
 * over h2c also 1xx and 600 up), so the dev proxy answers those with a 502 naming the status.
 */
import assert from "node:assert/strict";
import { connect as h2connect } from "node:http2";
import { after, before, describe, it } from "node:test";
import type { DevProxy } from "../../src/proxy/dev-proxy";
import { http1Request, startUpstream, startWasmTestProxy, useUpstream, type LogCapture } from "./proxy-test-helpers";
import { compileWat } from "./wat-filters";
import { STATUS_WRITER_WAT } from "./status-writer-filter";

const STATUS_WRITER = compileWat(STATUS_WRITER_WAT);

/** The upstream answers `hello` with `x-status` set to the decoded rest of a `/s/<value>` path. */
async function statusUpstream() {
  return startUpstream((req, res) => {
    const match = /^\/s\/(.*)$/.exec(req.url ?? "");
    if (match) res.setHeader("x-status", decodeURIComponent(match[1]));
    res.setHeader("content-length", "5");
    res.end("hello");
  });
}

const MISSING = "missing required header: :status";

interface Answer {
  status: number | undefined;
  contentType: string | undefined;
  body: string;
  rstCode?: number;
}

async function h2Exchange(url: string, paths: string[]): Promise<Answer[]> {
  const session = h2connect(url);
  session.on("error", () => {});
  try {
    const answers: Answer[] = [];
    for (const path of paths) {
      answers.push(
        await new Promise<Answer>((resolve) => {
          const stream = session.request({ ":path": path });
          let status: number | undefined;
          let contentType: string | undefined;
          const chunks: Buffer[] = [];
          stream.on("response", (headers) => {
            status = Number(headers[":status"]);
            contentType = headers["content-type"] as string | undefined;
          });
          stream.on("data", (chunk: Buffer) => chunks.push(chunk));
          stream.on("error", () => {});
          stream.on("close", () => resolve({ status, contentType, body: Buffer.concat(chunks).toString(), rstCode: stream.rstCode }));
          stream.end();
        }),
      );
    }
    return answers;
  } finally {
    session.close();
  }
}

for (const concurrency of [1, 2]) {
  describe(`--concurrency ${concurrency}: a filter's response :status`, () => {
    let proxy: DevProxy;
    let logs: LogCapture;
    let upstream: Awaited<ReturnType<typeof statusUpstream>>;
    before(async () => {
      upstream = await statusUpstream();
      ({ proxy, logs } = await startWasmTestProxy(STATUS_WRITER, (config) => {
        useUpstream(upstream.url)(config);
        config.concurrency = concurrency;
      }));
    });
    after(async () => {
      await proxy.close();
      await upstream.close();
    });

    it("HTTP/1.1: text, empty or removed get Envoy's 502 `missing required header: :status`; the next request is served", async () => {
      for (const value of ["abc", "", "-", "2e2"]) {
        const answer = await http1Request(`${proxy.url}/s/${encodeURIComponent(value)}`);
        assert.equal(answer.status, 502, value);
        assert.equal(answer.body, MISSING, value);
        assert.equal(answer.headers["content-type"], "text/plain");
        assert.equal(answer.headers["content-length"], String(MISSING.length));
        assert.equal(answer.headers["x-status"], undefined, "the upstream's head is dropped");
      }
      const next = await http1Request(`${proxy.url}/next`);
      assert.equal(next.status, 200);
      assert.equal(next.body, "hello");
    });

    it("HTTP/1.1: numbers node:http cannot write (99, 1000) get a 502 naming the status, logged", async () => {
      for (const value of ["99", "1000"]) {
        const answer = await http1Request(`${proxy.url}/s/${value}`);
        assert.equal(answer.status, 502, value);
        assert.equal(answer.body, `unsupported response status for HTTP/1.1: ${value}`);
        assert.equal(answer.headers["content-type"], "text/plain");
      }
      assert.ok(logs.lines.some((line) => line.includes("response head refused: unsupported response status for HTTP/1.1: 99")), logs.lines.join("\n"));
      // A number Node writes goes out as set, as Envoy writes it.
      const written = await http1Request(`${proxy.url}/s/299`);
      assert.equal(written.status, 299);
      assert.equal(written.body, "hello");
    });

    it("h2c: the same 502s on one connection, no stream reset, then a stream is served", async () => {
      const answers = await h2Exchange(proxy.url, ["/s/abc", "/s/-", "/s/99", "/s/150", "/s/600", "/s/299", "/next"]);
      const [text, removed, low, informational, high, written, next] = answers;
      for (const answer of [text, removed]) assert.deepEqual(answer, { status: 502, contentType: "text/plain", body: MISSING, rstCode: 0 });
      assert.deepEqual(low, { status: 502, contentType: "text/plain", body: "unsupported response status for HTTP/2: 99", rstCode: 0 });
      assert.deepEqual(informational, { status: 502, contentType: "text/plain", body: "unsupported response status for HTTP/2: 150", rstCode: 0 });
      assert.deepEqual(high, { status: 502, contentType: "text/plain", body: "unsupported response status for HTTP/2: 600", rstCode: 0 });
      assert.equal(written.status, 299);
      assert.equal(written.body, "hello");
      assert.equal(next.status, 200);
      assert.equal(next.body, "hello");
    });
  });
}
