import { LogLevel, WasiClock, WasiErrno, WasiFd } from "../abi/enums";
import { WASI_RANDOM_GET_MAX_BYTES } from "../abi/wasi-functions";
import { GuestMemory, u32 } from "./guest-memory";
import type { WasiEnvironment } from "./wasi-environment";

/** A WASI import implementation; i64 parameters arrive as `bigint`. */
export type WasiFunction = (...args: any[]) => number | void;

const utf8 = new TextEncoder();
const utf8Lossy = new TextDecoder("utf-8");

function isStdio(fd: number): boolean {
  return fd === WasiFd.Stdout || fd === WasiFd.Stderr;
}

/**
 * Builds the WASI functions of proxy-wasm-abi.md §5.19 with cpp-host's exact behaviour and
 * return codes. The VM installs the same object under both `wasi_unstable` and
 * `wasi_snapshot_preview1`; restricting calls during start/allocation (§4.1, §4.2) and
 * capability restriction are the VM's job, done by wrapping these functions.
 *
 * Memory is fetched from `env.memory()` on every call because it can grow between calls.
 */
export function createWasiImports(env: WasiEnvironment): Record<string, WasiFunction> {
  const memory = (): GuestMemory => new GuestMemory(env.memory());

  /** cpp-host's writev: stdout/stderr become one log line per call; returns errno and byte count. */
  function writeToLog(fd: number, iovs: number, iovsLen: number): { errno: number; written: number } {
    const level = fd === WasiFd.Stdout ? LogLevel.Info : fd === WasiFd.Stderr ? LogLevel.Error : undefined;
    if (level === undefined) return { errno: WasiErrno.Badf, written: 0 };
    const mem = memory();
    // Same outcome as failing on the first unreadable iovec, without looping over a bogus count.
    if (iovsLen > 0 && !mem.read(iovs, iovsLen * 8)) return { errno: WasiErrno.Fault, written: 0 };
    const chunks: Uint8Array[] = [];
    let written = 0;
    for (let i = 0; i < iovsLen; i++) {
      const iovec = mem.read(iovs + i * 8, 8);
      if (!iovec) return { errno: WasiErrno.Fault, written: 0 };
      const view = new DataView(iovec.buffer, iovec.byteOffset, 8);
      const bufLen = view.getUint32(4, true);
      if (bufLen === 0) continue;
      const data = mem.read(view.getUint32(0, true), bufLen);
      if (!data) return { errno: WasiErrno.Fault, written: 0 };
      chunks.push(data);
      written += bufLen;
    }
    if (written > 0) {
      const all = concat(chunks, written);
      // Only one trailing newline is dropped, and lines are never buffered across calls.
      const text = all[written - 1] === 0x0a ? all.subarray(0, written - 1) : all;
      env.log(level, utf8Lossy.decode(text));
    }
    // nwritten counts the newline even though the log line does not contain it.
    return { errno: WasiErrno.Success, written };
  }

  function writeCall(fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number {
    const { errno, written } = writeToLog(u32(fd), u32(iovs), u32(iovsLen));
    if (errno !== WasiErrno.Success) return errno;
    return memory().writeU32(u32(nwrittenPtr), written) ? WasiErrno.Success : WasiErrno.Fault;
  }

  /** Stubs that succeed for stdout/stderr and say BADF for every other fd. */
  const stdioOnly = (fd: number): number => (isStdio(u32(fd)) ? WasiErrno.Success : WasiErrno.Badf);

  return {
    fd_write: (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) =>
      writeCall(fd, iovs, iovsLen, nwrittenPtr),

    fd_pwrite: (fd: number, iovs: number, iovsLen: number, _offset: bigint, nwrittenPtr: number) =>
      isStdio(u32(fd)) ? writeCall(fd, iovs, iovsLen, nwrittenPtr) : WasiErrno.Badf,

    fd_read: (_fd: number, _iovs: number, _iovsLen: number, _nreadPtr: number) => WasiErrno.Nosys,

    fd_pread: (_fd: number, _iovs: number, _iovsLen: number, _offset: bigint, _nreadPtr: number) => WasiErrno.Nosys,

    fd_seek: (_fd: number, _offset: bigint, _whence: number, _newOffsetPtr: number) => {
      env.hostLog(LogLevel.Error, "wasi_unstable fd_seek");
      return WasiErrno.Success;
    },

    fd_close: (_fd: number) => {
      env.hostLog(LogLevel.Error, "wasi_unstable fd_close");
      return WasiErrno.Success;
    },

    fd_fdstat_get: (fd: number, statPtr: number) => {
      if (!isStdio(u32(fd))) return WasiErrno.Badf;
      // filetype 0, flags 0, rights_base = FD_WRITE (64), rights_inheriting 0. cpp-host ignores a
      // failed write here and still reports success.
      const stat = new Uint8Array(24);
      stat[8] = 64;
      memory().write(u32(statPtr), stat);
      return WasiErrno.Success;
    },

    fd_fdstat_set_flags: (_fd: number, _flags: number) => WasiErrno.Nosys,

    fd_fdstat_set_rights: (fd: number, _base: bigint, _inheriting: bigint) => stdioOnly(fd),

    fd_prestat_get: (_fd: number, _bufPtr: number) => WasiErrno.Badf,

    fd_prestat_dir_name: (_fd: number, _pathPtr: number, _pathLen: number) => WasiErrno.Nosys,

    fd_filestat_get: (_fd: number, _bufPtr: number) => WasiErrno.Badf,

    fd_filestat_set_size: (fd: number, _size: bigint) => stdioOnly(fd),

    fd_filestat_set_times: (fd: number, _atim: bigint, _mtim: bigint, _flags: number) => stdioOnly(fd),

    fd_advise: (_fd: number, _offset: bigint, _len: bigint, _advice: number) => WasiErrno.Success,

    fd_allocate: (fd: number, _offset: bigint, _len: bigint) => stdioOnly(fd),

    fd_datasync: (fd: number) => stdioOnly(fd),

    fd_sync: (fd: number) => stdioOnly(fd),

    fd_tell: (fd: number, offsetPtr: number) => {
      if (!isStdio(u32(fd))) return WasiErrno.Badf;
      return memory().writeU64(u32(offsetPtr), 0n) ? WasiErrno.Success : WasiErrno.Fault;
    },

    fd_readdir: (_fd: number, _buf: number, _bufLen: number, _cookie: bigint, bufUsedPtr: number) =>
      memory().writeU32(u32(bufUsedPtr), 0) ? WasiErrno.Notdir : WasiErrno.Fault,

    fd_renumber: (fd: number, to: number) =>
      isStdio(u32(fd)) && isStdio(u32(to)) ? WasiErrno.Notsup : WasiErrno.Badf,

    path_open: (
      _fd: number,
      _dirFlags: number,
      _path: number,
      _pathLen: number,
      _oflags: number,
      _rightsBase: bigint,
      _rightsInheriting: bigint,
      _fdFlags: number,
      _fdPtr: number,
    ) => WasiErrno.Noent,

    path_filestat_get: (_fd: number, _flags: number, _path: number, _pathLen: number, _buf: number) =>
      WasiErrno.Notsup,

    path_create_directory: (_fd: number, _path: number, _pathLen: number) => WasiErrno.Notsup,

    path_filestat_set_times: (
      _fd: number,
      _flags: number,
      _path: number,
      _pathLen: number,
      _atim: bigint,
      _mtim: bigint,
      _fstFlags: number,
    ) => WasiErrno.Notsup,

    // Six parameters, as cpp-host declares it (preview1 has seven).
    path_link: (_oldFd: number, _oldFlags: number, _oldPath: number, _oldPathLen: number, _newFd: number, _newPath: number) =>
      WasiErrno.Notsup,

    path_readlink: (_fd: number, _path: number, _pathLen: number, _buf: number, _bufLen: number, bufUsedPtr: number) =>
      memory().writeU32(u32(bufUsedPtr), 0) ? WasiErrno.Notsup : WasiErrno.Fault,

    path_remove_directory: (_fd: number, _path: number, _pathLen: number) => WasiErrno.Notsup,

    path_rename: (_fd: number, _oldPath: number, _oldPathLen: number, _newFd: number, _newPath: number, _newPathLen: number) =>
      WasiErrno.Notsup,

    // Four parameters, as cpp-host declares it (preview1 has five).
    path_symlink: (_oldPath: number, _oldPathLen: number, _fd: number, _newPath: number) => WasiErrno.Notsup,

    path_unlink_file: (_fd: number, _path: number, _pathLen: number) => WasiErrno.Notsup,

    environ_sizes_get: (countPtr: number, bufSizePtr: number) => {
      const mem = memory();
      if (!mem.writeU32(u32(countPtr), env.environment.length)) return WasiErrno.Fault;
      let size = 0;
      for (const [key, value] of env.environment) size += utf8.encode(key).length + utf8.encode(value).length + 2;
      return mem.writeU32(u32(bufSizePtr), size) ? WasiErrno.Success : WasiErrno.Fault;
    },

    environ_get: (arrayPtr: number, bufPtr: number) => {
      const mem = memory();
      let entry = u32(arrayPtr);
      let buf = u32(bufPtr);
      for (const [key, value] of env.environment) {
        if (!mem.writeU32(entry, buf)) return WasiErrno.Fault;
        const data = utf8.encode(`${key}=${value}\0`);
        if (!mem.write(buf, data)) return WasiErrno.Fault;
        buf += data.length;
        entry += 4;
      }
      return WasiErrno.Success;
    },

    args_sizes_get: (argcPtr: number, argvBufSizePtr: number) => {
      const mem = memory();
      if (!mem.writeU32(u32(argcPtr), 0)) return WasiErrno.Fault;
      return mem.writeU32(u32(argvBufSizePtr), 0) ? WasiErrno.Success : WasiErrno.Fault;
    },

    args_get: (_argvPtr: number, _argvBufPtr: number) => WasiErrno.Success,

    clock_time_get: (clockId: number, _precision: bigint, timePtr: number) => {
      const id = u32(clockId);
      const time = id === WasiClock.Realtime ? env.now() : id === WasiClock.Monotonic ? env.monotonic() : undefined;
      if (time === undefined) return WasiErrno.Notsup;
      return memory().writeU64(u32(timePtr), time) ? WasiErrno.Success : WasiErrno.Fault;
    },

    clock_res_get: (clockId: number, resolutionPtr: number) => {
      const id = u32(clockId);
      if (id !== WasiClock.Realtime && id !== WasiClock.Monotonic) return WasiErrno.Notsup;
      return memory().writeU64(u32(resolutionPtr), 1n) ? WasiErrno.Success : WasiErrno.Fault;
    },

    random_get: (bufPtr: number, bufLen: number) => {
      const length = u32(bufLen);
      if (length > WASI_RANDOM_GET_MAX_BYTES) return WasiErrno.Inval;
      if (length === 0) return WasiErrno.Success;
      return memory().write(u32(bufPtr), env.randomBytes(length).subarray(0, length))
        ? WasiErrno.Success
        : WasiErrno.Fault;
    },

    sched_yield: () => WasiErrno.Success,

    poll_oneoff: (_in: number, _out: number, _subscriptions: number, neventsPtr: number) =>
      memory().writeU32(u32(neventsPtr), 0) ? WasiErrno.Success : WasiErrno.Fault,

    // cpp-host only logs: the module keeps running after proc_exit returns.
    proc_exit: (_code: number) => {
      env.hostLog(LogLevel.Error, "wasi_unstable proc_exit");
    },

    // cpp-host writes the accepted fd as a 64-bit zero here (8 bytes, not 4).
    sock_accept: (_fd: number, _flags: number, fdPtr: number) =>
      memory().writeU64(u32(fdPtr), 0n) ? WasiErrno.Notsup : WasiErrno.Fault,

    sock_recv: (_fd: number, _riData: number, _riDataLen: number, _riFlags: number, dataLenPtr: number, flagsPtr: number) => {
      const mem = memory();
      if (!mem.writeU32(u32(dataLenPtr), 0)) return WasiErrno.Fault;
      return mem.writeU16(u32(flagsPtr), 0) ? WasiErrno.Notsup : WasiErrno.Fault;
    },

    sock_send: (_fd: number, _siData: number, _siDataLen: number, _siFlags: number, dataLenPtr: number) =>
      memory().writeU32(u32(dataLenPtr), 0) ? WasiErrno.Notsup : WasiErrno.Fault,

    sock_shutdown: (_fd: number, _how: number) => WasiErrno.Notsup,
  };
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}
