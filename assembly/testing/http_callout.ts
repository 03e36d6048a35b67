// An HTTP callout (`proxy_http_call`) the filter made and nobody has answered yet. Nothing is
// delivered to the filter until the spec calls `respond` or `fail`.

import { check } from "./errors";
import { Headers } from "./headers";
import * as host from "./imports";

export class HttpCallout {
  constructor(private readonly host: i32, readonly token: u32) {}

  /** The cluster the filter called; aborts once the callout was answered. */
  get cluster(): string {
    const cluster = host.callout_cluster(this.host, this.token);
    check();
    return cluster;
  }

  /** The callout's request headers (`:method`, `:path`, `:authority`, ...). */
  get headers(): Headers {
    const text = host.callout_headers(this.host, this.token);
    check();
    return Headers.decode(text);
  }

  get body(): string {
    const body = host.callout_body(this.host, this.token);
    check();
    return body;
  }

  get timeoutMs(): u32 {
    const timeout = host.callout_timeout_ms(this.host, this.token);
    check();
    return timeout;
  }

  /**
   * Delivers a response now (`proxy_on_http_call_response`). `status` becomes `:status` unless
   * `headers` has one. Aborts when the callout was already answered.
   */
  respond(status: u32, body: string = "", headers: Headers = new Headers()): void {
    host.callout_respond(this.host, this.token, status, headers.encode(), body);
    check();
  }

  /** Delivers a failure (no headers, no body), as when the cluster resets the call. */
  fail(): void {
    host.callout_fail(this.host, this.token);
    check();
  }
}
