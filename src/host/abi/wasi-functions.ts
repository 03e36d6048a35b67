import { sig, type FuncSignature } from "./signature";

/** Both import module names under which the host registers the same WASI functions (§1.3). */
export const WASI_MODULES = ["wasi_unstable", "wasi_snapshot_preview1"] as const;
export type WasiModuleName = (typeof WASI_MODULES)[number];

const i32 = "i32" as const;
const i64 = "i64" as const;

/**
 * Every WASI function the host provides (§5.19), with the wasm signature cpp-host registers.
 * These are the preview1 signatures (pointers and sizes as i32, 64-bit values as i64), except
 * `path_link` and `path_symlink`: cpp-host declares them one parameter short (see
 * {@link WASI_PREVIEW1_SIGNATURES_CPP_HOST_DIFFERS}), and we mirror the host, not the standard,
 * because a module that links on our host must link on Envoy.
 */
export const WASI_FUNCTIONS: Readonly<Record<string, FuncSignature>> = {
  args_get: sig([i32, i32], [i32]),
  args_sizes_get: sig([i32, i32], [i32]),
  environ_get: sig([i32, i32], [i32]),
  environ_sizes_get: sig([i32, i32], [i32]),
  clock_res_get: sig([i32, i32], [i32]),
  clock_time_get: sig([i32, i64, i32], [i32]),
  fd_advise: sig([i32, i64, i64, i32], [i32]),
  fd_allocate: sig([i32, i64, i64], [i32]),
  fd_close: sig([i32], [i32]),
  fd_datasync: sig([i32], [i32]),
  fd_fdstat_get: sig([i32, i32], [i32]),
  fd_fdstat_set_flags: sig([i32, i32], [i32]),
  fd_fdstat_set_rights: sig([i32, i64, i64], [i32]),
  fd_filestat_get: sig([i32, i32], [i32]),
  fd_filestat_set_size: sig([i32, i64], [i32]),
  fd_filestat_set_times: sig([i32, i64, i64, i32], [i32]),
  fd_pread: sig([i32, i32, i32, i64, i32], [i32]),
  fd_prestat_get: sig([i32, i32], [i32]),
  fd_prestat_dir_name: sig([i32, i32, i32], [i32]),
  fd_pwrite: sig([i32, i32, i32, i64, i32], [i32]),
  fd_read: sig([i32, i32, i32, i32], [i32]),
  fd_readdir: sig([i32, i32, i32, i64, i32], [i32]),
  fd_renumber: sig([i32, i32], [i32]),
  fd_seek: sig([i32, i64, i32, i32], [i32]),
  fd_sync: sig([i32], [i32]),
  fd_tell: sig([i32, i32], [i32]),
  fd_write: sig([i32, i32, i32, i32], [i32]),
  path_create_directory: sig([i32, i32, i32], [i32]),
  path_filestat_get: sig([i32, i32, i32, i32, i32], [i32]),
  path_filestat_set_times: sig([i32, i32, i32, i32, i64, i64, i32], [i32]),
  path_link: sig([i32, i32, i32, i32, i32, i32], [i32]),
  path_open: sig([i32, i32, i32, i32, i32, i64, i64, i32, i32], [i32]),
  path_readlink: sig([i32, i32, i32, i32, i32, i32], [i32]),
  path_remove_directory: sig([i32, i32, i32], [i32]),
  path_rename: sig([i32, i32, i32, i32, i32, i32], [i32]),
  path_symlink: sig([i32, i32, i32, i32], [i32]),
  path_unlink_file: sig([i32, i32, i32], [i32]),
  poll_oneoff: sig([i32, i32, i32, i32], [i32]),
  proc_exit: sig([i32], []),
  random_get: sig([i32, i32], [i32]),
  sched_yield: sig([], [i32]),
  sock_accept: sig([i32, i32, i32], [i32]),
  sock_recv: sig([i32, i32, i32, i32, i32, i32], [i32]),
  sock_send: sig([i32, i32, i32, i32, i32], [i32]),
  sock_shutdown: sig([i32, i32], [i32]),
};

/**
 * The real WASI preview1 signatures where cpp-host's registration differs from them (§5.19).
 * A toolchain that follows the standard produces these, and Envoy then rejects the module with
 * an import type mismatch; the module checker uses this table to explain why.
 */
export const WASI_PREVIEW1_SIGNATURES_CPP_HOST_DIFFERS: Readonly<Record<string, FuncSignature>> = {
  path_link: sig([i32, i32, i32, i32, i32, i32, i32], [i32]),
  path_symlink: sig([i32, i32, i32, i32, i32], [i32]),
};

/** Size in bytes above which `random_get` returns `Inval` (cpp-host limits.h). */
export const WASI_RANDOM_GET_MAX_BYTES = 64 * 1024;
