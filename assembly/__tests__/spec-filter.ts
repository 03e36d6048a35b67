// The filter every SDK spec module is. as-pect.config.js hosts the spec module itself in the
// project's host (`withProxyWasmHost({ specModuleIsFilter: true })`): the host calls the spec's
// exports, and the SDK's hostcalls reach the real host. A test puts SDK code in a callback with
// the `during…` helpers below and the host runs it there, with the context and the data (headers,
// bodies, buffers) that callback has in Envoy.
//
// A spec file using this re-exports the SDK's callbacks (`export * from "../exports"`) and starts
// the one host of its module with `specHost()`.

import { Context, RootContext, HttpContext, HttpCallResponse, GrpcStatus, FilterHeadersStatus, FilterDataStatus, registerRoot } from "../index";
import { TestHost, HttpStream, Headers, Properties } from "../testing";

/** Code a test runs inside a callback; a top-level function (AssemblyScript closures capture nothing). */
export type Step = () => void;

function nothing(): void {}

/** Set by each callback that ran a step, so a helper can tell that the host did call it. */
let stepRan = false;

function run(step: Step): void {
  stepRan = true;
  step();
}

/** Aborts the test when the callback meant to run the step was not called. */
function expectRan(callback: string): void {
  // A trap in an earlier test of this module leaves its VM failed (fail_closed, as in Envoy).
  if (!stepRan) throw new Error("the host did not call " + callback + " (after a failure inside a callback, the module's VM stays failed: fix the first failing test)");
  stepRan = false;
}

/** What the next callback of each kind runs (reset to nothing after it ran). */
let onRequestHeaders: Step = nothing;
let onRequestBody: Step = nothing;
let onResponseHeaders: Step = nothing;
let onTick: Step = nothing;

/** What a context does with a callout answer (`onHttpCallResponse`), whichever context made the call. */
export type ResponseStep = (owner: Context, token: u32, response: HttpCallResponse) => void;
/** What a context does with a gRPC event: "metadata" (value: header count), "message" (size), "close" (status). */
export type GrpcStep = (owner: Context, token: u32, event: string, value: u32) => void;

function ignoreResponse(owner: Context, token: u32, response: HttpCallResponse): void {}
function ignoreGrpc(owner: Context, token: u32, event: string, value: u32): void {}

let responseStep: ResponseStep = ignoreResponse;
let grpcStep: GrpcStep = ignoreGrpc;

/** Sets what every context does with callout answers from now on. */
export function onHttpCallResponse(step: ResponseStep): void {
  responseStep = step;
}

/** Sets what every context does with gRPC events from now on. */
export function onGrpcEvent(step: GrpcStep): void {
  grpcStep = step;
}

/** The root context the host created for the plugin ("" root_id), and the last stream context. */
export let specRoot: SpecRoot | null = null;
export let specStream: SpecStream | null = null;

export class SpecRoot extends RootContext {
  constructor(id: u32) {
    super(id);
    specRoot = this;
  }
  onConfigure(configurationSize: u32): bool {
    // A tick every millisecond of the host's clock: `duringTick` advances it by one.
    this.setTickPeriod(1);
    return true;
  }
  onTick(): void {
    const step = onTick;
    onTick = nothing;
    run(step);
  }
  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    responseStep(this, token, response);
  }
  onGrpcReceiveInitialMetadata(token: u32, headerCount: u32): void {
    grpcStep(this, token, "metadata", headerCount);
  }
  onGrpcReceive(token: u32, messageSize: u32): void {
    grpcStep(this, token, "message", messageSize);
  }
  onGrpcClose(token: u32, status: GrpcStatus): void {
    grpcStep(this, token, "close", <u32>status);
  }
  createHttpContext(contextId: u32): HttpContext | null {
    const stream = new SpecStream(contextId, this);
    specStream = stream;
    return stream;
  }
}

export class SpecStream extends HttpContext {
  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    responseStep(this, token, response);
  }
  onGrpcReceiveInitialMetadata(token: u32, headerCount: u32): void {
    grpcStep(this, token, "metadata", headerCount);
  }
  onGrpcReceive(token: u32, messageSize: u32): void {
    grpcStep(this, token, "message", messageSize);
  }
  onGrpcClose(token: u32, status: GrpcStatus): void {
    grpcStep(this, token, "close", <u32>status);
  }
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const step = onRequestHeaders;
    onRequestHeaders = nothing;
    run(step);
    return FilterHeadersStatus.Continue;
  }
  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    const step = onRequestBody;
    onRequestBody = nothing;
    run(step);
    return FilterDataStatus.Continue;
  }
  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const step = onResponseHeaders;
    onResponseHeaders = nothing;
    run(step);
    return FilterHeadersStatus.Continue;
  }
}

registerRoot("", (contextId: u32): RootContext => new SpecRoot(contextId));

let theHost: TestHost | null = null;

/**
 * The host of this spec module (one per module), started at first use with cluster "cluster" for
 * callouts and the call trace on (`hostcallCount` reads it).
 */
export function specHost(): TestHost {
  if (theHost === null) theHost = new TestHost().cluster("cluster").trace().start();
  return theHost!;
}

/** Forgets the call trace so far (see `hostcallCount`). */
export function clearHostcalls(): void {
  specHost().clearTrace();
}

/** How many hostcalls whose name contains `fragment` the module made since `clearHostcalls()`. */
export function hostcallCount(fragment: string): i32 {
  const lines = specHost().traceLines();
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("[vm->host] env.") && line.includes(fragment)) count++;
  }
  return count;
}

/** A new stream on the host with `properties`; the request headers have not arrived yet. */
export function newStream(properties: Properties = new Properties()): HttpStream {
  return specHost().http(properties);
}

/** `GET /` with an authority: a request for tests that need one but do not look at it. */
export function aRequest(): Headers {
  return Headers.of([[":method", "GET"], [":path", "/"], [":authority", "spec"]]);
}

/** Runs `step` in `proxy_on_request_headers` of a new stream (with `properties`) whose request has `headers`. */
export function duringRequestHeaders(headers: Headers, step: Step, properties: Properties = new Properties()): HttpStream {
  const stream = newStream(properties);
  onRequestHeaders = step;
  stepRan = false;
  stream.requestHeaders(headers);
  expectRan("proxy_on_request_headers");
  return stream;
}

/** Runs `step` in `proxy_on_response_headers` of a new stream (request `GET /`) whose response has `headers`. */
export function duringResponseHeaders(headers: Headers, step: Step): HttpStream {
  const stream = newStream();
  stream.requestHeaders(aRequest(), true);
  onResponseHeaders = step;
  stepRan = false;
  stream.responseHeaders(headers);
  expectRan("proxy_on_response_headers");
  return stream;
}

/** Runs `step` in `proxy_on_request_body` of a new stream (request `POST /`) for the one chunk `body`. */
export function duringRequestBody(body: string, step: Step): HttpStream {
  const stream = newStream();
  stream.requestHeaders(Headers.of([[":method", "POST"], [":path", "/"], [":authority", "spec"]]));
  onRequestBody = step;
  stepRan = false;
  stream.requestBody(body, true);
  expectRan("proxy_on_request_body");
  return stream;
}

/** Runs `step` in the root context's `proxy_on_tick`. */
export function duringTick(step: Step): void {
  const host = specHost();
  onTick = step;
  stepRan = false;
  host.advanceTime(1);
  expectRan("proxy_on_tick");
}
