// shared_queue: two VMs talking through host shared queues. One module, two roles chosen by the
// plugin's root_id:
//   receiver (in the VM with vm_id "receiver"): registers the queue named by its plugin
//     configuration and logs every item that arrives on it;
//   sender (any other VM): configured "http" or "tcp", it enqueues the request and response
//     headers of HTTP streams, or a hash of each chunk of upstream TCP data.
import {
  RootContext, HttpContext, TcpContext, FilterHeadersStatus, FilterStatus, WasmResult,
  registerSharedQueue, resolveSharedQueue, enqueueSharedQueue, dequeueSharedQueue, lastResult,
  parseJson, log, registerRoot,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

const RECEIVER_VM_ID = "receiver";
const REQUEST_HEADERS_QUEUE = "http_request_headers";
const RESPONSE_HEADERS_QUEUE = "http_response_headers";
const TCP_DATA_HASHES_QUEUE = "tcp_data_hashes";

/**
 * The plugin configuration as one word: the raw text, or the string `field` of a JSON object
 * (Istio's WasmPlugin `pluginConfig` is always an object). "" if neither. Only in onConfigure.
 */
function configurationWord(root: RootContext, field: string): string {
  const text = root.pluginConfigurationText();
  if (!text.startsWith("{")) return text;
  const json = parseJson(root.pluginConfiguration());
  if (json === null) return "";
  const value = json.getString(field);
  return value !== null ? value : "";
}

// --- receiver ------------------------------------------------------------------------------

class QueueReceiver extends RootContext {
  queueName: string = "";

  onConfigure(pluginConfigurationSize: u32): bool {
    this.queueName = configurationWord(this, "queue");
    if (this.queueName.length == 0) {
      log.critical('receiver: the plugin configuration must be the name of the queue to receive from (or {"queue": "<name>"})');
      return false;
    }
    // Registering makes this root context the one notified (onQueueReady) for the queue.
    const queueId = registerSharedQueue(this.queueName);
    log.info('queue "' + this.queueName + '" registered as queueID=' + queueId.toString()
      + " by contextID=" + this.id.toString());
    return true;
  }

  onQueueReady(queueId: u32): void {
    const data = dequeueSharedQueue(queueId);
    if (data === null) {
      // One notification per enqueue, but any VM may dequeue: finding it empty is normal.
      const status = lastResult();
      if (status != WasmResult.Empty) {
        log.critical("error retrieving data from queue " + queueId.toString() + ": WasmResult " + (<i32>status).toString());
      }
      return;
    }
    log.info("(contextID=" + this.id.toString() + ") dequeued data from " + this.queueName
      + "(queueID=" + queueId.toString() + "): " + String.UTF8.decode(data));
  }
}

// --- sender --------------------------------------------------------------------------------

class QueueSender extends RootContext {
  config: string = "";
  requestHeadersQueue: u32 = 0;
  responseHeadersQueue: u32 = 0;
  tcpDataHashesQueue: u32 = 0;

  onConfigure(pluginConfigurationSize: u32): bool {
    this.config = configurationWord(this, "mode");
    if (this.config != "http" && this.config != "tcp") {
      log.critical('sender: the plugin configuration must be http or tcp (or {"mode": "http" | "tcp"})');
      return false;
    }
    log.info("contextID=" + this.id.toString() + " is configured for " + this.config);
    // The receiver VM must have registered the queues before this plugin is configured.
    this.requestHeadersQueue = resolveQueue(REQUEST_HEADERS_QUEUE);
    this.responseHeadersQueue = resolveQueue(RESPONSE_HEADERS_QUEUE);
    this.tcpDataHashesQueue = resolveQueue(TCP_DATA_HASHES_QUEUE);
    return true;
  }

  // Each sender plugin handles one kind of traffic; the other factory declines with null.
  createHttpContext(contextId: u32): HttpContext | null {
    return this.config == "http" ? new HeaderSender(contextId, this) : null;
  }

  createTcpContext(contextId: u32): TcpContext | null {
    return this.config == "tcp" ? new DataHashSender(contextId, this) : null;
  }
}

/** The queue id, or 0 (which no queue has) after logging why it could not be resolved. */
function resolveQueue(name: string): u32 {
  const queueId = resolveSharedQueue(RECEIVER_VM_ID, name);
  if (queueId == 0) {
    log.critical("error resolving queue " + name + ": WasmResult " + (<i32>lastResult()).toString());
  }
  return queueId;
}

/** Enqueues `message`; returns false after logging the failure. */
function enqueue(queueId: u32, message: string): bool {
  const status = enqueueSharedQueue(queueId, String.UTF8.encode(message));
  if (status == WasmResult.Ok) return true;
  log.critical("error queueing: WasmResult " + (<i32>status).toString());
  return false;
}

function headerMessage(key: string, value: string): string {
  return '{"key": "' + key + '","value": "' + value + '"}';
}

class HeaderSender extends HttpContext {
  constructor(id: u32, private readonly sender: QueueSender) {
    super(id, sender);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const headers = this.requestHeaders.getAll();
    for (let i = 0; i < headers.length; i++) {
      const message = headerMessage(headers[i].key, headers[i].value);
      if (enqueue(this.sender.requestHeadersQueue, message)) log.info("enqueued data: " + message);
    }
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const headers = this.responseHeaders.getAll();
    for (let i = 0; i < headers.length; i++) {
      const message = headerMessage(headers[i].key, headers[i].value);
      if (enqueue(this.sender.responseHeadersQueue, message)) {
        log.info("(contextID=" + this.id.toString() + ") enqueued data: " + message);
      }
    }
    return FilterHeadersStatus.Continue;
  }
}

class DataHashSender extends TcpContext {
  constructor(id: u32, private readonly sender: QueueSender) {
    super(id, sender);
  }

  onUpstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    if (dataSize == 0) return FilterStatus.Continue;
    const hash = fnv1a128Hex(this.upstreamData.bytes(0, dataSize));
    if (enqueue(this.sender.tcpDataHashesQueue, hash)) {
      log.info("(contextID=" + this.id.toString() + ") enqueued data: " + hash);
    }
    return FilterStatus.Continue;
  }
}

/** FNV-1a, 128-bit, as 32 lower-case hex digits (big-endian, like Go's hash.Sum). */
function fnv1a128Hex(data: ArrayBuffer): string {
  // The 128-bit state as two u64 halves; prime = 2^88 + 0x13b.
  let hi: u64 = 0x6c62272e07bb0142;
  let lo: u64 = 0x62b821756295c58d;
  const base = changetype<usize>(data);
  for (let i = 0; i < data.byteLength; i++) {
    lo ^= <u64>load<u8>(base + i);
    // (hi:lo) * 0x13b, with the 64x64 product of lo split into 32-bit halves...
    const lowPart = (lo & 0xffffffff) * 0x13b;
    const highPart = (lo >> 32) * 0x13b;
    const low = lowPart + (highPart << 32);
    const carry: u64 = low < lowPart ? 1 : 0;
    // ...plus (hi:lo) * 2^88, of which only lo << 88 survives mod 2^128.
    hi = hi * 0x13b + (highPart >> 32) + carry + (lo << 24);
    lo = low;
  }
  return hex64(hi) + hex64(lo);
}

function hex64(value: u64): string {
  const digits = value.toString(16);
  return "0000000000000000".substring(digits.length) + digits;
}

registerRoot("receiver", (contextId: u32): RootContext => new QueueReceiver(contextId));
registerRoot("sender", (contextId: u32): RootContext => new QueueSender(contextId));
