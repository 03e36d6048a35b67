import { WasmResult, BufferType } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { Context, ContextKind } from "./context";
import { HttpContext } from "./http_context";
import { TcpContext } from "./tcp_context";
import { readBufferBytes, readBufferText } from "./buffer";

/**
 * The plugin (root) context: one per plugin configuration bound to the VM. Subclass it,
 * override what the plugin needs and register a factory with registerRoot. (Abstract: only
 * subclasses are instantiated, which lets the SDK's build transform see every root class.)
 */
export abstract class RootContext extends Context {
  // @ts-ignore: decorator
  @inline constructor(id: u32) {
    super(id, ContextKind.Root);
  }

  /** Once per root context after creation. Return false to fail the plugin start. */
  onVmStart(vmConfigurationSize: u32): bool {
    return true;
  }

  /** Each time the plugin configuration is (re)applied; read it with pluginConfiguration().
   * Return false to reject the configuration. */
  onConfigure(pluginConfigurationSize: u32): bool {
    return true;
  }

  /** Timer set by setTickPeriod. */
  onTick(): void {}

  /** An item was enqueued on a shared queue this root registered. */
  onQueueReady(queueId: u32): void {}

  /** A host foreign-function callback; its arguments are in the CallData buffer. */
  onForeignFunction(functionId: u32, argumentsSize: u32): void {}

  /**
   * Creates the context for a new HTTP stream, or null if this plugin handles no HTTP.
   * Called from proxy_on_context_create; createTcpContext is tried when this returns null.
   * When both return null (a root-only plugin deployed as a filter, as an Istio WasmPlugin
   * always is), the stream passes through untouched: every stream callback continues. The SDK
   * then logs once per plugin, at warn level,
   * `plugin "<plugin_name>" makes no stream context; its streams pass through untouched`
   * (the root id stands in for an empty name).
   * The host does not say which kind of stream it creates: a TCP connection also gets the HTTP
   * context made here. When that stream's first TCP callback arrives (a plugin that handles HTTP
   * deployed as a network filter), the stream passes through untouched and the SDK warns once
   * per plugin (`... made an HTTP context for a TCP connection; such connections pass through
   * untouched`); the same for a TCP context meeting HTTP callbacks.
   * Declaring the override's result as `HttpContext` (not nullable) tells the SDK's build
   * transform that this root always makes one: when every root class of the module does so
   * (here or in createTcpContext), the pass-through code is left out of the module.
   */
  createHttpContext(contextId: u32): HttpContext | null {
    return null;
  }

  /** Creates the context for a new TCP connection, or null if this plugin handles no TCP
   * (see createHttpContext for a stream that gets neither). */
  createTcpContext(contextId: u32): TcpContext | null {
    return null;
  }

  /** The plugin configuration as bytes. Only in onConfigure (Envoy: NotFound elsewhere, then
   * an empty buffer is returned and lastResult() says why). */
  pluginConfiguration(): ArrayBuffer {
    return readBufferBytes(BufferType.PluginConfiguration, 0, u32.MAX_VALUE);
  }

  /** The plugin configuration decoded as UTF-8 ("" when absent; invalid sequences become
   * U+FFFD: check pluginConfiguration() with isValidUtf8 to refuse them). Only in onConfigure. */
  pluginConfigurationText(): string {
    return readBufferText(BufferType.PluginConfiguration, 0, u32.MAX_VALUE);
  }

  /** The VM configuration as bytes (readable from any callback in Envoy). */
  vmConfiguration(): ArrayBuffer {
    return readBufferBytes(BufferType.VmConfiguration, 0, u32.MAX_VALUE);
  }

  /** The VM configuration as UTF-8 text. */
  vmConfigurationText(): string {
    return readBufferText(BufferType.VmConfiguration, 0, u32.MAX_VALUE);
  }

  /** Arms (period > 0) or cancels (0) the timer that calls onTick. Always Ok in Envoy. */
  setTickPeriod(milliseconds: u32): WasmResult {
    return host.setTickPeriodMilliseconds(milliseconds);
  }

  /** Completes a shutdown deferred by returning false from onDone; the host deletes this
   * context after the current callback. NotFound if no shutdown is pending. */
  done(): WasmResult {
    return host.proxyDone();
  }
}

