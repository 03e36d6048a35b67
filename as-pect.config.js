// as-pect configuration: the SDK specs run against a small in-memory Proxy-Wasm host written
// here. It follows Envoy's conventions (proxy-wasm-abi.md): out-pointers, ptr 0 / size 0 for
// empty results, the pairs format, NotFound / BadArgument codes. Specs drive it through the
// `mock` import module (see assembly/__tests__/host.ts).
//
// as-pect compiles with its own asconfig (as-pect.asconfig.json): the default env.abort, not
// the SDK's release abort alias, so failure messages reach as-pect.

const enc = new TextEncoder();
const dec = new TextDecoder();

function encodePairs(pairs) {
  let size = 4;
  for (const [k, v] of pairs) size += 8 + k.length + v.length + 2;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, pairs.length, true);
  let lengths = 4;
  let data = 4 + pairs.length * 8;
  for (const [k, v] of pairs) {
    dv.setUint32(lengths, k.length, true);
    dv.setUint32(lengths + 4, v.length, true);
    lengths += 8;
    out.set(k, data); data += k.length + 1;
    out.set(v, data); data += v.length + 1;
  }
  return out;
}

function decodePairs(bytes) {
  if (bytes.length < 4) return [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(0, true);
  const pairs = [];
  let data = 4 + n * 8;
  for (let i = 0; i < n; i++) {
    const kl = dv.getUint32(4 + i * 8, true), vl = dv.getUint32(8 + i * 8, true);
    const k = bytes.slice(data, data + kl); data += kl + 1;
    const v = bytes.slice(data, data + vl); data += vl + 1;
    pairs.push([k, v]);
  }
  return pairs;
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");

export default {
  entries: ["assembly/__tests__/**/*.spec.ts"],
  include: ["assembly/__tests__/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    let instance;
    const mem = () => instance.exports.memory;
    const u8 = () => new Uint8Array(mem().buffer);
    const dv = () => new DataView(mem().buffer);
    const read = (p, n) => u8().slice(p, p + n);
    const str = (p) => instance.exports.__getString(p);
    const newStr = (s) => instance.exports.__newString(s);

    let state;
    // Tokens stay unique for the whole module, as in Envoy (never reset between tests).
    let nextToken = 4;
    const reset = () => {
      state = {
        maps: new Map(), // type -> [[keyBytes, valueBytes]]
        buffers: new Map(), // type -> Uint8Array
        properties: new Map(), // hex(path) -> Uint8Array
        logs: [],
        logLevel: 0,
        logLevelCalls: 0,
        hostcalls: 0,
        effective: [],
        calls: [],
        status: [0, new Uint8Array(0)],
        lastPropertyPath: "",
        lastBufferWrite: "",
        localResponse: "",
        shared: new Map(),
        cas: 1,
        queues: new Map(),
        queueNames: new Map(),
        metrics: new Map(),
        nextMetric: 1,
        gcPressure: false,
        collections: 0,
      };
    };
    reset();

    const mapOf = (type) => {
      if (!state.maps.has(type)) state.maps.set(type, []);
      return state.maps.get(type);
    };

    // Returns bytes to the module as the host does: malloc from inside the hostcall, or
    // ptr 0 / size 0 for empty data.
    const give = (bytes, ptrPtr, sizePtr) => {
      let p = 0;
      if (bytes.length > 0) {
        p = instance.exports.malloc(bytes.length);
        if (p === 0) return 6;
        u8().set(bytes, p);
        if (state.gcPressure) {
          // A full collection, then fresh allocations that would reuse the block if the
          // collector had reclaimed it.
          instance.exports.__collect();
          state.collections++;
          for (let i = 0; i < 64; i++) instance.exports.__newString("x".repeat(bytes.length));
        }
      }
      dv().setUint32(ptrPtr, p, true);
      dv().setUint32(sizePtr, bytes.length, true);
      return 0;
    };

    const counted = (fn) => (...args) => { state.hostcalls++; return fn(...args); };

    const env = {
      memory,
      proxy_log(level, p, n) {
        if (level > 5) return 2;
        state.logs.push(`${level}:${dec.decode(read(p, n))}`);
        return 0;
      },
      proxy_get_log_level(p) {
        state.logLevelCalls++;
        dv().setUint32(p, state.logLevel, true);
        return 0;
      },
      proxy_get_current_time_nanoseconds(p) {
        dv().setBigUint64(p, 1700000000123456789n, true);
        return 0;
      },
      proxy_set_tick_period_milliseconds(ms) { state.calls.push(`tick:${ms}`); return 0; },
      proxy_get_status(codePtr, pp, sp) {
        dv().setUint32(codePtr, state.status[0], true);
        return give(state.status[1], pp, sp);
      },
      proxy_get_property(pathPtr, pathSize, pp, sp) {
        const key = hex(read(pathPtr, pathSize));
        state.lastPropertyPath = key;
        if (!state.properties.has(key)) return 1;
        return give(state.properties.get(key), pp, sp);
      },
      proxy_set_property(pathPtr, pathSize, vp, vs) {
        state.properties.set(hex(read(pathPtr, pathSize)), read(vp, vs));
        return 0;
      },
      proxy_continue_stream(t) { if (t > 3) return 2; state.calls.push(`continue:${t}`); return t === 3 ? 12 : 0; },
      proxy_close_stream(t) { if (t > 3) return 2; state.calls.push(`close:${t}`); return 0; },
      proxy_send_local_response(code, dp, ds, bp, bs, hp, hs, grpc) {
        const headers = decodePairs(read(hp, hs)).map(([k, v]) => `${dec.decode(k)}=${dec.decode(v)}`).join(",");
        state.localResponse = `${code}|${dec.decode(read(bp, bs))}|${headers}|${dec.decode(read(dp, ds))}|${grpc | 0}`;
        return 0;
      },
      proxy_get_header_map_value: counted((type, kp, ks, pp, sp) => {
        if (type > 7) return 2;
        if (!state.maps.has(type)) return 2; // map unavailable
        const key = read(kp, ks);
        const entry = mapOf(type).find(([k]) => same(k, key));
        if (!entry) return 1;
        return give(entry[1], pp, sp);
      }),
      proxy_add_header_map_value: counted((type, kp, ks, vp, vs) => {
        if (type > 7 || !state.maps.has(type)) return 2;
        mapOf(type).push([read(kp, ks), read(vp, vs)]);
        return 0;
      }),
      proxy_replace_header_map_value: counted((type, kp, ks, vp, vs) => {
        if (type > 7 || !state.maps.has(type)) return 2;
        const key = read(kp, ks);
        const list = mapOf(type).filter(([k]) => !same(k, key));
        list.push([key, read(vp, vs)]);
        state.maps.set(type, list);
        return 0;
      }),
      proxy_remove_header_map_value: counted((type, kp, ks) => {
        if (type > 7 || !state.maps.has(type)) return 2;
        const key = read(kp, ks);
        state.maps.set(type, mapOf(type).filter(([k]) => !same(k, key)));
        return 0;
      }),
      proxy_get_header_map_pairs: counted((type, pp, sp) => {
        if (type > 7) return 2;
        const list = state.maps.get(type) ?? [];
        return give(list.length === 0 ? new Uint8Array(0) : encodePairs(list), pp, sp);
      }),
      proxy_set_header_map_pairs: counted((type, p, n) => {
        if (type > 7 || !state.maps.has(type)) return 2;
        state.maps.set(type, decodePairs(read(p, n)));
        return 0;
      }),
      proxy_get_header_map_size: counted((type, sp) => {
        if (type > 7 || !state.maps.has(type)) return 2;
        dv().setUint32(sp, mapOf(type).reduce((s, [k, v]) => s + k.length + v.length, 0), true);
        return 0;
      }),
      proxy_get_buffer_status(type, lp, fp) {
        if (type > 8) return 2;
        if (!state.buffers.has(type)) return 1;
        dv().setUint32(lp, state.buffers.get(type).length, true);
        dv().setUint32(fp, 0, true);
        return 0;
      },
      proxy_get_buffer_bytes(type, start, length, pp, sp) {
        if (type > 8) return 2;
        if (!state.buffers.has(type)) return 1;
        const b = state.buffers.get(type);
        start >>>= 0; length >>>= 0;
        const from = Math.min(start, b.length);
        return give(b.slice(from, Math.min(b.length, from + length)), pp, sp);
      },
      proxy_set_buffer_bytes(type, start, length, p, n) {
        if (type > 8) return 2;
        if (!state.buffers.has(type)) return 1;
        if (type >= 4) return 2;
        start >>>= 0; length >>>= 0;
        const b = state.buffers.get(type);
        const data = read(p, n);
        state.lastBufferWrite = `${type}:${start}:${length}:${dec.decode(data)}`;
        let next;
        if (start === 0) next = new Uint8Array([...data, ...b.slice(Math.min(length, b.length))]);
        else if (start >= b.length) next = new Uint8Array([...b, ...data]);
        else return 2;
        state.buffers.set(type, next);
        return 0;
      },
      proxy_http_call(up, us, hp, hs, bp, bs, tp, ts, timeout, tokenPtr) {
        dv().setUint32(tokenPtr, 0, true);
        const cluster = dec.decode(read(up, us));
        if (cluster !== "cluster") return 2;
        const headers = decodePairs(read(hp, hs)).map(([k, v]) => `${dec.decode(k)}=${dec.decode(v)}`).join(",");
        const token = nextToken; nextToken += 4;
        state.calls.push(`http:${token}:${cluster}:${headers}:${dec.decode(read(bp, bs))}:${ts}:${timeout}`);
        dv().setUint32(tokenPtr, token, true);
        return 0;
      },
      proxy_grpc_call(sp, ss, np, ns, mp, ms, mdp, mds, gp, gs, timeout, tokenPtr) {
        const token = nextToken + 1; nextToken += 4;
        state.calls.push(`grpc:${token}:${dec.decode(read(sp, ss))}:${dec.decode(read(np, ns))}:${dec.decode(read(mp, ms))}:${gs}:${timeout}`);
        dv().setUint32(tokenPtr, token, true);
        return 0;
      },
      proxy_grpc_stream(sp, ss, np, ns, mp, ms, mdp, mds, tokenPtr) {
        const token = nextToken + 2; nextToken += 4;
        state.calls.push(`stream:${token}:${dec.decode(read(mp, ms))}`);
        dv().setUint32(tokenPtr, token, true);
        return 0;
      },
      proxy_grpc_send(token, p, n, end) { state.calls.push(`send:${token}:${n}:${end}`); return 0; },
      proxy_grpc_cancel(token) { state.calls.push(`cancel:${token}`); return 0; },
      proxy_grpc_close(token) { state.calls.push(`closegrpc:${token}`); return 0; },
      proxy_get_shared_data(kp, ks, pp, sp, casPtr) {
        const key = dec.decode(read(kp, ks));
        if (!state.shared.has(key)) return 1;
        const [value, cas] = state.shared.get(key);
        dv().setUint32(casPtr, cas, true);
        return give(value, pp, sp);
      },
      proxy_set_shared_data(kp, ks, vp, vs, cas) {
        const key = dec.decode(read(kp, ks));
        if (cas !== 0 && state.shared.has(key) && state.shared.get(key)[1] !== cas) return 8;
        state.shared.set(key, [read(vp, vs), state.cas++]);
        return 0;
      },
      proxy_register_shared_queue(np, ns, tokenPtr) {
        const name = dec.decode(read(np, ns));
        if (!state.queueNames.has(name)) { state.queueNames.set(name, state.queueNames.size + 1); state.queues.set(state.queueNames.size, []); }
        dv().setUint32(tokenPtr, state.queueNames.get(name), true);
        return 0;
      },
      proxy_resolve_shared_queue(vp, vs, np, ns, tokenPtr) {
        const name = dec.decode(read(np, ns));
        if (!state.queueNames.has(name)) return 1;
        dv().setUint32(tokenPtr, state.queueNames.get(name), true);
        return 0;
      },
      proxy_enqueue_shared_queue(token, p, n) {
        if (!state.queues.has(token)) return 1;
        state.queues.get(token).push(read(p, n));
        return 0;
      },
      proxy_dequeue_shared_queue(token, pp, sp) {
        if (!state.queues.has(token)) return 1;
        const q = state.queues.get(token);
        if (q.length === 0) return 7;
        return give(q.shift(), pp, sp);
      },
      proxy_define_metric(type, np, ns, idPtr) {
        if (type > 2) return 2;
        const id = (state.nextMetric++ << 2) | type;
        state.metrics.set(id, 0n);
        state.calls.push(`define:${dec.decode(read(np, ns))}:${id}`);
        dv().setUint32(idPtr, id, true);
        return 0;
      },
      proxy_increment_metric(id, offset) {
        if (!state.metrics.has(id)) return 1;
        if ((id & 3) === 2 || ((id & 3) === 0 && offset <= 0n)) return 2;
        state.metrics.set(id, state.metrics.get(id) + offset);
        return 0;
      },
      proxy_record_metric(id, value) {
        if (!state.metrics.has(id)) return 1;
        state.metrics.set(id, (id & 3) === 1 ? value : state.metrics.get(id) + value);
        return 0;
      },
      proxy_get_metric(id, p) {
        if (!state.metrics.has(id)) return 1;
        if ((id & 3) === 2) return 2;
        dv().setBigUint64(p, BigInt.asUintN(64, state.metrics.get(id)), true);
        return 0;
      },
      proxy_set_effective_context(id) { state.effective.push(id); return 0; },
      proxy_done() { state.calls.push("done"); return 0; },
      proxy_call_foreign_function(np, ns, ap, as, pp, sp) {
        const name = dec.decode(read(np, ns));
        if (name !== "reverse") return 1;
        return give(read(ap, as).reverse(), pp, sp);
      },
    };

    const mock = {
      reset,
      // Makes map `type` available (as in its callback) and adds an entry.
      setHeader(type, k, v) { mapOf(type).push([enc.encode(str(k)), enc.encode(str(v))]); },
      setHeaderRaw(type, kp, ks, vp, vs) { mapOf(type).push([read(kp, ks), read(vp, vs)]); },
      openMap(type) { mapOf(type); },
      // "k=v,k2=v2" with raw bytes shown as hex when not printable ASCII.
      mapText(type) {
        const show = (b) => (b.every((x) => x >= 0x20 && x < 0x7f) ? dec.decode(b) : `<${hex(b)}>`);
        return newStr((state.maps.get(type) ?? []).map(([k, v]) => `${show(k)}=${show(v)}`).join(","));
      },
      setBuffer(type, s) { state.buffers.set(type, enc.encode(str(s))); },
      bufferText(type) { return newStr(dec.decode(state.buffers.get(type) ?? new Uint8Array(0))); },
      lastBufferWrite() { return newStr(state.lastBufferWrite); },
      setProperty(pp, ps, vp, vs) { state.properties.set(hex(read(pp, ps)), read(vp, vs)); },
      lastPropertyPath() { return newStr(state.lastPropertyPath); },
      setLogLevel(level) { state.logLevel = level; },
      logLevelCalls() { return state.logLevelCalls; },
      logCount() { return state.logs.length; },
      lastLog() { return newStr(state.logs.at(-1) ?? ""); },
      hostcalls() { return state.hostcalls; },
      effectiveText() { return newStr(state.effective.join(",")); },
      callsText() { return newStr(state.calls.join(";")); },
      localResponse() { return newStr(state.localResponse); },
      setStatus(code, s) { state.status = [code, enc.encode(str(s))]; },
      setGcPressure(on) { state.gcPressure = on !== 0; },
      collections() { return state.collections; },
      memoryBytes() { return mem().buffer.byteLength; },
    };

    instance = await instantiate(binary, createImports({ env, mock }));
    return instance;
  },
  outputBinary: false,
};
