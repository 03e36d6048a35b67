// json_validation: lets a request through only if it is `content-type: application/json` and
// its body is a JSON object with every configured key. Everything else gets a local 403.
// Plugin configuration (optional): {"requiredKeys": ["<key>", ...]}.
import {
  RootContext, HttpContext, JsonKind, FilterHeadersStatus, FilterDataStatus, registerRoot,
  parseJson, parseConfig, configError, log, sendLocalResponse,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

/** What json_validation requires of a request body. */
// @ts-ignore: decorator
@pluginConfig
class ValidationConfig {
  /** Keys the body's top-level JSON object must have; none when empty. */
  requiredKeys: Array<string> = [];
}

class ValidationRoot extends RootContext {
  requiredKeys: Array<string> = [];

  onConfigure(pluginConfigurationSize: u32): bool {
    // No configuration reads as {}: every JSON object body passes.
    const config = parseConfig<ValidationConfig>(this.pluginConfiguration());
    if (config === null) {
      log.critical("invalid configuration: " + configError());
      return false;
    }
    this.requiredKeys = config.requiredKeys;
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new JsonValidator(contextId, this);
  }
}

class JsonValidator extends HttpContext {
  constructor(id: u32, private readonly config: ValidationRoot) {
    super(id, config);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const contentType = this.requestHeaders.get("content-type");
    if (contentType === null || contentType != "application/json") {
      sendLocalResponse(403, "content-type must be provided");
      return FilterHeadersStatus.StopIteration;
    }
    return FilterHeadersStatus.Continue;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    // Buffer until the end: the last call's bodySize is then the whole body. (Adding up
    // bodySize over the calls would count buffered bytes twice.)
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    if (!this.isValid(this.requestBody.bytes())) {
      sendLocalResponse(403, "invalid payload");
      return FilterDataStatus.StopIterationAndBuffer;
    }
    return FilterDataStatus.Continue;
  }

  private isValid(body: ArrayBuffer): bool {
    const json = parseJson(body);
    if (json === null) {
      log.error("body is not a valid json: " + String.UTF8.decode(body));
      return false;
    }
    const keys = this.config.requiredKeys;
    for (let i = 0; i < keys.length; i++) {
      if (json.get(keys[i]) === null) {
        log.error("required key (" + keys[i] + ") is missing: " + json.toJson());
        return false;
      }
    }
    return true;
  }
}

registerRoot("", (contextId: u32): RootContext => new ValidationRoot(contextId));
