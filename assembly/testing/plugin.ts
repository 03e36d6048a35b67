// A further plugin configuration on a test host's VM (`TestHost.addPlugin`), as Envoy runs
// several filters whose vm_config shares code and vm_id: its own root context, name, root_id and
// configuration; logs, metrics, callouts and the clock stay the test host's.

import { check } from "./errors";
import { HttpStream } from "./http_stream";
import * as host from "./imports";
import { Properties } from "./properties";
import { TcpConnection } from "./tcp_connection";

export class Plugin {
  constructor(private readonly handle: i32) {}

  /** This plugin's root context id (2 for the first plugin added). */
  get rootContextId(): u32 {
    const id = host.plugin_root_context_id(this.handle);
    check();
    return id;
  }

  /** A stream under this plugin's root; aborts once the plugin was shut down. */
  http(properties: Properties = new Properties()): HttpStream {
    const stream = host.stream_new(this.handle, properties.encode());
    check();
    return new HttpStream(stream);
  }

  /** A TCP connection under this plugin's root; aborts once the plugin was shut down. */
  tcp(properties: Properties = new Properties()): TcpConnection {
    const connection = host.tcp_new(this.handle, properties.encode());
    check();
    return new TcpConnection(connection);
  }

  /** Removes this plugin only; true when its root context is gone. */
  shutdown(): bool {
    const done = host.plugin_shutdown(this.handle);
    check();
    return done != 0;
  }
}
