/**
 * Reference §5.12: shared queues keyed by (vm_id, name), a process-wide token counter, one
 * asynchronous proxy_on_queue_ready per enqueue to the latest registrant's root context.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { conformanceModule, OUT } from "./conformance-module";

const DEQUEUE = (token: string) => `(call $proxy_dequeue_shared_queue ${token} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`;

/** Registers "q" in on_configure; logs each notification and dequeues one item. */
const REGISTRANT = conformanceModule((w) => `
  (global $token (mut i32) (i32.const 0))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ${w.log("register", `(call $proxy_register_shared_queue ${w.str("q")} (i32.const ${OUT.extra}))`)}
    (global.set $token (i32.load (i32.const ${OUT.extra})))
    ${w.logU32("token", OUT.extra)}
    ${w.log("register_again", `(call $proxy_register_shared_queue ${w.str("q")} (i32.const ${OUT.extra}))`)}
    ${w.logU32("token", OUT.extra)}
    ${w.log("resolve_own", `(call $proxy_resolve_shared_queue (i32.const 0) (i32.const 0) ${w.str("q")} (i32.const ${OUT.extra}))`)}
    ${w.logU32("token", OUT.extra)}
    ${w.log("resolve_missing", `(call $proxy_resolve_shared_queue (i32.const 0) (i32.const 0) ${w.str("nope")} (i32.const ${OUT.extra}))`)}
    ${w.log("resolve_other_vm", `(call $proxy_resolve_shared_queue ${w.str("other")} ${w.str("q")} (i32.const ${OUT.extra}))`)}
    ${w.log("dequeue_empty", DEQUEUE("(global.get $token)"))}
    ${w.log("dequeue_unknown", DEQUEUE("(i32.const 999)"))}
    ${w.log("enqueue_unknown", `(call $proxy_enqueue_shared_queue (i32.const 999) ${w.str("x")})`)}
    ${w.log("register_bad_token_ptr", `(call $proxy_register_shared_queue ${w.str("q")} (i32.const 0x7ffffffe))`)}
    (i32.const 1))
  (func (export "proxy_on_queue_ready") (param $root i32) (param $token i32)
    (local $result i32)
    ${w.log("queue_ready_root", "(local.get $root)")}
    ${w.log("queue_ready_token", "(local.get $token)")}
    (local.set $result ${DEQUEUE("(local.get $token)")})
    ${w.log("dequeue", "(local.get $result)")}
    (if (i32.eqz (local.get $result)) (then ${w.logOut()})))
  ;; Enqueues two items from a stream context.
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${w.log("enqueue", `(call $proxy_enqueue_shared_queue (global.get $token) ${w.str("a")})`)}
    ${w.log("enqueue", `(call $proxy_enqueue_shared_queue (global.get $token) ${w.str("b")})`)}
    ${w.say("request_headers_end")}
    (i32.const 0))
`);

/** Resolves vm "shared", queue "q" and enqueues on every request. */
const PRODUCER = conformanceModule((w) => `
  (global $token (mut i32) (i32.const 0))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ${w.log("producer_resolve", `(call $proxy_resolve_shared_queue ${w.str("shared")} ${w.str("q")} (i32.const ${OUT.extra}))`)}
    (global.set $token (i32.load (i32.const ${OUT.extra})))
    ${w.logU32("producer_token", OUT.extra)}
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${w.log("producer_enqueue", `(call $proxy_enqueue_shared_queue (global.get $token) ${w.str("from-producer")})`)}
    (i32.const 0))
`);

test("§5.12: register/resolve/dequeue/enqueue result codes; re-registering keeps the token", () => {
  const host = createTestHost({ wasm: REGISTRANT, vmId: "shared" });
  assert.deepEqual(host.logs.messages, [
    "register=0",
    "token=1",
    "register_again=0",
    "token=1",
    "resolve_own=0",
    "token=1",
    "resolve_missing=1",
    "resolve_other_vm=1",
    "dequeue_empty=7",
    "dequeue_unknown=1",
    "enqueue_unknown=1",
    "register_bad_token_ptr=6",
  ]);
});

test("§5.12: one on_queue_ready per enqueue, delivered to the root after the enqueuing callback", () => {
  const host = createTestHost({ wasm: REGISTRANT, vmId: "shared", rootId: "r" });
  host.logs.clear();
  host.http().requestHeaders({ ":path": "/" });
  assert.deepEqual(host.logs.messages, ["enqueue=0", "enqueue=0", "request_headers_end"], "no notification inside the callback");
  assert.equal(host.flushQueues(), 2);
  assert.deepEqual(host.logs.lines.slice(3), [
    "wasm log r shared: queue_ready_root=1",
    "wasm log r shared: queue_ready_token=1",
    "wasm log r shared: dequeue=0",
    "wasm log r shared: a",
    "wasm log r shared: queue_ready_root=1",
    "wasm log r shared: queue_ready_token=1",
    "wasm log r shared: dequeue=0",
    "wasm log r shared: b",
  ]);
  assert.equal(host.flushQueues(), 0);
});

test("§5.12: another VM resolves by vm_id and enqueues; the registrant's VM is notified", () => {
  const registrant = createTestHost({ wasm: REGISTRANT, vmId: "shared", rootId: "registrant" });
  const producer = createTestHost({ wasm: PRODUCER, vmId: "producer-vm", rootId: "producer", shareProcessWith: registrant });
  assert.deepEqual(registrant.logs.messages.slice(-2), ["producer_resolve=0", "producer_token=1"]);
  registrant.logs.clear();
  producer.http().requestHeaders({ ":path": "/" });
  registrant.flushQueues();
  assert.deepEqual(registrant.logs.lines, [
    "wasm log producer producer-vm: producer_enqueue=0",
    "wasm log registrant shared: queue_ready_root=1",
    "wasm log registrant shared: queue_ready_token=1",
    "wasm log registrant shared: dequeue=0",
    "wasm log registrant shared: from-producer",
  ]);
});

test("§5.12: re-registering with the same vm_id keeps the items and moves notifications of later enqueues", () => {
  const first = createTestHost({ wasm: REGISTRANT, vmId: "shared", rootId: "first" });
  first.http().requestHeaders({ ":path": "/" });
  first.logs.clear();
  const second = createTestHost({ wasm: REGISTRANT, vmId: "shared", rootId: "second", shareProcessWith: first });
  // Its on_configure dequeues once: it pops "a", enqueued before it registered.
  assert.deepEqual(first.logs.messages.slice(0, 2), ["register=0", "token=1"]);
  assert.equal(first.logs.messages[8], "dequeue_empty=0");
  first.logs.clear();
  // The two notifications posted before the re-registration still go to the first registrant.
  assert.equal(first.flushQueues(), 2);
  assert.deepEqual(first.logs.lines, [
    "wasm log first shared: queue_ready_root=1",
    "wasm log first shared: queue_ready_token=1",
    "wasm log first shared: dequeue=0",
    "wasm log first shared: b",
    "wasm log first shared: queue_ready_root=1",
    "wasm log first shared: queue_ready_token=1",
    "wasm log first shared: dequeue=7",
  ]);
  first.logs.clear();
  second.http().requestHeaders({ ":path": "/" });
  assert.equal(first.flushQueues(), 2);
  assert.deepEqual(first.logs.lines.filter((l) => l.includes("dequeue=")), ["wasm log second shared: dequeue=0", "wasm log second shared: dequeue=0"]);
});
