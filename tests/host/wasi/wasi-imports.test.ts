import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createWasiImports, WASI_FUNCTIONS } from "../../../src/host/wasi";
import { fakeWasi, putIovecs, putString } from "./fake-wasi-environment";

const OUT_OF_BOUNDS = 1021; // a u32 at 1021 ends past a 1024-byte memory

describe("createWasiImports", () => {
  it("implements exactly the WASI functions of the ABI table, with matching arity", () => {
    const wasi = createWasiImports(fakeWasi().env);
    assert.deepEqual(Object.keys(wasi).sort(), Object.keys(WASI_FUNCTIONS).sort());
    for (const [name, signature] of Object.entries(WASI_FUNCTIONS)) {
      assert.equal(wasi[name]!.length, signature.params.length, name);
    }
  });
});

describe("fd_write", () => {
  it("joins all iovecs into one line, strips one trailing newline, counts every byte", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    const a = putString(fake, 100, "hello ");
    const b = putString(fake, 200, "world\n\n");
    putIovecs(fake, 16, [
      [100, a],
      [0, 0],
      [200, b],
    ]);
    assert.equal(wasi.fd_write!(1, 16, 3, 8), 0);
    assert.deepEqual(fake.logs, [[2, "hello world\n"]]);
    assert.equal(fake.view().getUint32(8, true), 13);
  });

  it("stderr logs at error (4); no line buffering across calls", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    putIovecs(fake, 16, [[100, putString(fake, 100, "par")]]);
    assert.equal(wasi.fd_write!(2, 16, 1, 8), 0);
    putIovecs(fake, 16, [[100, putString(fake, 100, "tial\n")]]);
    assert.equal(wasi.fd_write!(2, 16, 1, 8), 0);
    assert.deepEqual(fake.logs, [
      [4, "par"],
      [4, "tial"],
    ]);
  });

  it("empty writes log nothing and report 0 bytes; a lone newline logs an empty line", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    fake.view().setUint32(8, 99, true);
    assert.equal(wasi.fd_write!(1, 16, 0, 8), 0);
    assert.equal(fake.view().getUint32(8, true), 0);
    assert.equal(wasi.fd_write!(1, 5000, 0, 8), 0); // no iovec is read, so its address does not matter
    putIovecs(fake, 16, [[100, putString(fake, 100, "\n")]]);
    assert.equal(wasi.fd_write!(1, 16, 1, 8), 0);
    assert.deepEqual(fake.logs, [[2, ""]]);
    assert.equal(fake.view().getUint32(8, true), 1);
  });

  it("other fds -> 8 (BADF) without logging", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    putIovecs(fake, 16, [[100, putString(fake, 100, "x")]]);
    for (const fd of [0, 3, -1]) assert.equal(wasi.fd_write!(fd, 16, 1, 8), 8);
    assert.deepEqual(fake.logs, []);
  });

  it("iovec array or buffer outside memory -> 21 (FAULT) and nothing is logged", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    assert.equal(wasi.fd_write!(1, 1020, 1, 8), 21);
    putIovecs(fake, 16, [
      [100, putString(fake, 100, "ok")],
      [1000, 25],
    ]);
    assert.equal(wasi.fd_write!(1, 16, 2, 8), 21);
    assert.equal(wasi.fd_write!(1, 16, -1, 8), 21); // 0xffffffff iovecs
    putIovecs(fake, 16, [[0xffff_fff0, 0x20]]); // pointer + length overflows u32
    assert.equal(wasi.fd_write!(1, 16, 1, 8), 21);
    assert.deepEqual(fake.logs, []);
  });

  it("nwritten outside memory -> 21 after the line was logged (cpp-host order)", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    putIovecs(fake, 16, [[100, putString(fake, 100, "hi")]]);
    assert.equal(wasi.fd_write!(1, 16, 1, OUT_OF_BOUNDS), 21);
    assert.deepEqual(fake.logs, [[2, "hi"]]);
  });

  it("re-reads memory on every call, so grown memory is visible", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    fake.grow(1024);
    putIovecs(fake, 1500, [[1800, putString(fake, 1800, "grown")]]);
    assert.equal(wasi.fd_write!(1, 1500, 1, 1900), 0);
    assert.deepEqual(fake.logs, [[2, "grown"]]);
  });

  it("fd_pwrite behaves like fd_write on stdout/stderr, ignoring the offset, BADF otherwise", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    putIovecs(fake, 16, [[100, putString(fake, 100, "p\n")]]);
    assert.equal(wasi.fd_pwrite!(2, 16, 1, 123n, 8), 0);
    assert.equal(wasi.fd_pwrite!(5, 16, 1, 0n, 8), 8);
    assert.deepEqual(fake.logs, [[4, "p"]]);
    assert.equal(fake.view().getUint32(8, true), 2);
  });
});

describe("random_get", () => {
  it("65536 bytes is fine, 65537 -> 28 (INVAL), 0 -> 0 without touching memory", () => {
    const fake = fakeWasi({ size: 70_000 });
    const wasi = createWasiImports(fake.env);
    assert.equal(wasi.random_get!(0, 65536), 0);
    assert.equal(fake.bytes()[65535], 0xab);
    assert.equal(fake.bytes()[65536], 0);
    assert.equal(wasi.random_get!(0, 65537), 28);
    assert.equal(wasi.random_get!(0, -1), 28); // u32 0xffffffff
    assert.equal(wasi.random_get!(OUT_OF_BOUNDS + 100_000, 0), 0);
    assert.deepEqual(fake.randomRequests, [65536]);
  });

  it("buffer outside memory -> 21", () => {
    const fake = fakeWasi();
    assert.equal(createWasiImports(fake.env).random_get!(1020, 8), 21);
  });
});

describe("clocks", () => {
  it("clock 0 is realtime, clock 1 monotonic, written as u64; others -> 58", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    assert.equal(wasi.clock_time_get!(0, 1000n, 8), 0);
    assert.equal(fake.view().getBigUint64(8, true), 1_700_000_000_123_456_789n);
    assert.equal(wasi.clock_time_get!(1, 0n, 16), 0);
    assert.equal(fake.view().getBigUint64(16, true), 42n);
    assert.equal(wasi.clock_time_get!(2, 0n, 24), 58);
    assert.equal(wasi.clock_time_get!(3, 0n, 24), 58);
    assert.equal(fake.view().getBigUint64(24, true), 0n);
    assert.equal(wasi.clock_time_get!(0, 0n, 1020), 21);
  });

  it("clock_res_get: 1 ns for clocks 0 and 1, 58 otherwise, 21 for a bad pointer", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    assert.equal(wasi.clock_res_get!(1, 8), 0);
    assert.equal(fake.view().getBigUint64(8, true), 1n);
    assert.equal(wasi.clock_res_get!(2, 8), 58);
    assert.equal(wasi.clock_res_get!(0, 1020), 21);
  });
});

describe("environment and arguments", () => {
  const environment: Array<[string, string]> = [
    ["A", "1"],
    ["PATHLESS", "é"],
  ];

  it("environ_sizes_get counts entries and KEY=VALUE\\0 bytes (UTF-8)", () => {
    const fake = fakeWasi({ environment });
    const wasi = createWasiImports(fake.env);
    assert.equal(wasi.environ_sizes_get!(8, 12), 0);
    assert.equal(fake.view().getUint32(8, true), 2);
    assert.equal(fake.view().getUint32(12, true), 4 + 12);
    assert.equal(wasi.environ_sizes_get!(OUT_OF_BOUNDS, 12), 21);
    assert.equal(wasi.environ_sizes_get!(8, OUT_OF_BOUNDS), 21);
  });

  it("environ_get writes strings back to back and one u32 pointer per entry", () => {
    const fake = fakeWasi({ environment });
    const wasi = createWasiImports(fake.env);
    assert.equal(wasi.environ_get!(16, 100), 0);
    assert.equal(fake.view().getUint32(16, true), 100);
    assert.equal(fake.view().getUint32(20, true), 104);
    assert.deepEqual([...fake.bytes().subarray(100, 116)], [...new TextEncoder().encode("A=1\0PATHLESS=é\0")]);
    assert.equal(wasi.environ_get!(OUT_OF_BOUNDS, 100), 21);
    assert.equal(wasi.environ_get!(16, 1020), 21);
  });

  it("an empty environment writes zeros and nothing else", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    fake.view().setUint32(8, 7, true);
    assert.equal(wasi.environ_sizes_get!(8, 12), 0);
    assert.equal(fake.view().getUint32(8, true), 0);
    assert.equal(wasi.environ_get!(OUT_OF_BOUNDS, OUT_OF_BOUNDS), 0);
  });

  it("args: sizes are 0 and 0, args_get writes nothing", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    fake.view().setUint32(8, 5, true);
    fake.view().setUint32(12, 6, true);
    assert.equal(wasi.args_sizes_get!(8, 12), 0);
    assert.deepEqual([fake.view().getUint32(8, true), fake.view().getUint32(12, true)], [0, 0]);
    assert.equal(wasi.args_sizes_get!(OUT_OF_BOUNDS, 12), 21);
    assert.equal(wasi.args_sizes_get!(8, OUT_OF_BOUNDS), 21);
    assert.equal(wasi.args_get!(OUT_OF_BOUNDS, OUT_OF_BOUNDS), 0);
  });
});

describe("process and host-logged calls", () => {
  it("proc_exit logs an error host message and returns", () => {
    const fake = fakeWasi();
    assert.equal(createWasiImports(fake.env).proc_exit!(3), undefined);
    assert.deepEqual(fake.hostLogs, [[4, "wasi_unstable proc_exit"]]);
    assert.deepEqual(fake.logs, []);
  });

  it("fd_seek and fd_close log an error host message and return 0", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    assert.equal(wasi.fd_seek!(1, 10n, 0, 8), 0);
    assert.equal(wasi.fd_close!(1), 0);
    assert.deepEqual(fake.hostLogs, [
      [4, "wasi_unstable fd_seek"],
      [4, "wasi_unstable fd_close"],
    ]);
  });

  it("sched_yield -> 0; poll_oneoff writes 0 events", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    assert.equal(wasi.sched_yield!(), 0);
    fake.view().setUint32(8, 9, true);
    assert.equal(wasi.poll_oneoff!(100, 200, 1, 8), 0);
    assert.equal(fake.view().getUint32(8, true), 0);
    assert.equal(wasi.poll_oneoff!(100, 200, 1, OUT_OF_BOUNDS), 21);
  });
});

describe("file descriptor stubs", () => {
  it("fd_fdstat_get writes 24 bytes with rights_base FD_WRITE for stdout/stderr, BADF otherwise", () => {
    const fake = fakeWasi();
    const wasi = createWasiImports(fake.env);
    fake.bytes().fill(0xff, 0, 64);
    assert.equal(wasi.fd_fdstat_get!(1, 8), 0);
    const expected = Array<number>(24).fill(0);
    expected[8] = 64; // rights_base, u64 at offset 8
    assert.deepEqual([...fake.bytes().subarray(8, 32)], expected);
    assert.equal(fake.bytes()[32], 0xff);
    assert.equal(wasi.fd_fdstat_get!(0, 8), 8);
    // cpp-host ignores the failed write and still succeeds.
    assert.equal(wasi.fd_fdstat_get!(2, 1010), 0);
  });

  it("return codes of the fixed stubs", () => {
    const fake = fakeWasi();
    const w = createWasiImports(fake.env);
    const cases: Array<[string, number, number]> = [
      ["fd_read", w.fd_read!(0, 16, 1, 8) as number, 52],
      ["fd_pread", w.fd_pread!(1, 16, 1, 0n, 8) as number, 52],
      ["fd_fdstat_set_flags", w.fd_fdstat_set_flags!(1, 0) as number, 52],
      ["fd_prestat_get", w.fd_prestat_get!(3, 8) as number, 8],
      ["fd_prestat_dir_name", w.fd_prestat_dir_name!(3, 8, 4) as number, 52],
      ["fd_filestat_get", w.fd_filestat_get!(1, 8) as number, 8],
      ["path_open", w.path_open!(3, 0, 8, 4, 0, 0n, 0n, 0, 8) as number, 44],
      ["path_filestat_get", w.path_filestat_get!(3, 0, 8, 4, 16) as number, 58],
      ["path_create_directory", w.path_create_directory!(3, 8, 4) as number, 58],
      ["path_filestat_set_times", w.path_filestat_set_times!(3, 0, 8, 4, 0n, 0n, 0) as number, 58],
      ["path_link", w.path_link!(3, 0, 8, 4, 3, 16) as number, 58],
      ["path_remove_directory", w.path_remove_directory!(3, 8, 4) as number, 58],
      ["path_rename", w.path_rename!(3, 8, 4, 3, 16, 4) as number, 58],
      ["path_symlink", w.path_symlink!(8, 4, 3, 16) as number, 58],
      ["path_unlink_file", w.path_unlink_file!(3, 8, 4) as number, 58],
      ["sock_shutdown", w.sock_shutdown!(3, 0) as number, 58],
      ["fd_advise any fd", w.fd_advise!(7, 0n, 0n, 0) as number, 0],
    ];
    for (const [name, actual, expected] of cases) assert.equal(actual, expected, name);
  });

  it("stdio-only stubs: 0 for fd 1/2, 8 otherwise", () => {
    const w = createWasiImports(fakeWasi().env);
    const calls: Record<string, (fd: number) => unknown> = {
      fd_allocate: (fd) => w.fd_allocate!(fd, 0n, 10n),
      fd_datasync: (fd) => w.fd_datasync!(fd),
      fd_sync: (fd) => w.fd_sync!(fd),
      fd_fdstat_set_rights: (fd) => w.fd_fdstat_set_rights!(fd, 64n, 0n),
      fd_filestat_set_size: (fd) => w.fd_filestat_set_size!(fd, 0n),
      fd_filestat_set_times: (fd) => w.fd_filestat_set_times!(fd, 0n, 0n, 0),
    };
    for (const [name, call] of Object.entries(calls)) {
      assert.deepEqual([call(1), call(2), call(0), call(3)], [0, 0, 8, 8], name);
    }
  });

  it("fd_tell writes a u64 0 for stdio; fd_renumber is NOTSUP between stdio fds, BADF otherwise", () => {
    const fake = fakeWasi();
    const w = createWasiImports(fake.env);
    fake.bytes().fill(0xff, 8, 16);
    assert.equal(w.fd_tell!(1, 8), 0);
    assert.equal(fake.view().getBigUint64(8, true), 0n);
    assert.equal(w.fd_tell!(3, 8), 8);
    assert.equal(w.fd_tell!(2, 1020), 21);
    assert.equal(w.fd_renumber!(1, 2), 58);
    assert.equal(w.fd_renumber!(1, 3), 8);
    assert.equal(w.fd_renumber!(0, 2), 8);
  });

  it("out-param stubs write zeros, then fail with their fixed code (or 21 for a bad pointer)", () => {
    const fake = fakeWasi();
    const w = createWasiImports(fake.env);
    fake.bytes().fill(0xff, 0, 64);
    assert.equal(w.fd_readdir!(3, 100, 10, 0n, 8), 20);
    assert.equal(fake.view().getUint32(8, true), 0);
    assert.equal(w.path_readlink!(3, 100, 4, 200, 10, 12), 58);
    assert.equal(fake.view().getUint32(12, true), 0);
    assert.equal(w.sock_accept!(3, 0, 16), 58);
    assert.equal(fake.view().getBigUint64(16, true), 0n); // cpp-host writes 8 bytes here
    assert.equal(w.sock_recv!(3, 100, 1, 0, 24, 28), 58);
    assert.equal(fake.view().getUint32(24, true), 0);
    assert.equal(fake.view().getUint16(28, true), 0);
    assert.equal(fake.view().getUint16(30, true), 0xffff);
    assert.equal(w.sock_send!(3, 100, 1, 0, 32), 58);
    assert.equal(fake.view().getUint32(32, true), 0);
    assert.equal(fake.view().getUint32(36, true), 0xffffffff);
    assert.equal(w.fd_readdir!(3, 100, 10, 0n, OUT_OF_BOUNDS), 21);
    assert.equal(w.path_readlink!(3, 100, 4, 200, 10, OUT_OF_BOUNDS), 21);
    assert.equal(w.sock_accept!(3, 0, 1020), 21);
    assert.equal(w.sock_recv!(3, 100, 1, 0, OUT_OF_BOUNDS, 28), 21);
    assert.equal(w.sock_recv!(3, 100, 1, 0, 24, 1023), 21);
    assert.equal(w.sock_send!(3, 100, 1, 0, OUT_OF_BOUNDS), 21);
  });

  it("accepts a WebAssembly.Memory-like object and follows its growth", () => {
    const fake = fakeWasi();
    const memoryLike = { get buffer() { return fake.buffer; } };
    const wasi = createWasiImports({ ...fake.env, memory: () => memoryLike });
    assert.equal(wasi.clock_time_get!(1, 0n, 1500), 21);
    fake.grow(1024);
    assert.equal(wasi.clock_time_get!(1, 0n, 1500), 0);
    assert.equal(fake.view().getBigUint64(1500, true), 42n);
  });
});
