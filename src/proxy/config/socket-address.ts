import type { ConfigReader } from "./config-reader";
import { ConfigError, type ListenerConfig } from "./dev-proxy-config";

/**
 * An Envoy `config.core.v3.Address` that must be a `socket_address` (TCP): its `address` (an IP
 * or, in DNS clusters, a host name) and `port_value`.
 *
 * @throws ConfigError when it is a pipe or another kind of address, or has no port.
 */
export function socketAddress(address: ConfigReader): ListenerConfig {
  const socket = address.child("socket_address");
  if (!socket) throw new ConfigError(`${address.path}: only socket_address is supported`);
  const host = socket.string("address") ?? "127.0.0.1";
  const port = socket.number("port_value");
  if (port === undefined) throw new ConfigError(`${socket.path}.port_value: missing`);
  const protocol = socket.string("protocol");
  if (protocol !== undefined && protocol !== "TCP") throw new ConfigError(`${socket.at("protocol")}: ${protocol} is not supported (only TCP)`);
  socket.unsupported("resolver_name");
  socket.unsupported("ipv4_compat");
  socket.unsupported("named_port");
  socket.finish();
  address.finish();
  return { host, port };
}
