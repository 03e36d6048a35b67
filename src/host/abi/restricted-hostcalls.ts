import { importKey } from "./host-imports";
import { WASI_MODULES } from "./wasi-functions";

function underBothWasiModules(names: readonly string[]): string[] {
  return WASI_MODULES.flatMap((module) => names.map((name) => importKey(module, name)));
}

/**
 * Hostcalls (as `module.name`) allowed while `_initialize` / `main` / `__main_void` / `_start`
 * run (§4.1 step 4, current cpp-host list). Any other hostcall must trap with
 * "restricted_callback" and fail the VM; enforcing that is the VM's job.
 */
export const START_ALLOWED_HOSTCALLS: ReadonlySet<string> = new Set([
  "env.emscripten_notify_memory_growth",
  "env.proxy_log",
  ...underBothWasiModules([
    "fd_write",
    "args_sizes_get",
    "args_get",
    "environ_sizes_get",
    "environ_get",
    "clock_time_get",
    "clock_res_get",
    "random_get",
    "poll_oneoff",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_advise",
    "fd_allocate",
    "fd_datasync",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_dir_name",
    "fd_prestat_get",
    "fd_pwrite",
    "fd_readdir",
    "fd_renumber",
    "fd_sync",
    "fd_tell",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
  ]),
]);

/**
 * Hostcalls (as `module.name`) allowed while the module's allocator runs re-entrantly inside a
 * hostcall (§4.2). Anything else traps with "restricted_callback", fails the VM, and the
 * interrupted hostcall returns `InvalidMemoryAccess`.
 */
export const ALLOCATOR_ALLOWED_HOSTCALLS: ReadonlySet<string> = new Set([
  "env.proxy_log",
  ...underBothWasiModules(["fd_write", "clock_time_get", "poll_oneoff"]),
]);

/** The trap message cpp-host uses when a restricted hostcall is made. */
export const RESTRICTED_CALLBACK_TRAP = "restricted_callback";

/**
 * Hostcalls (as `module.name`) that work from a wasm start section, where cpp-host has no current
 * context: the ones whose cpp-host implementation never looks the context up (src/exports.cc: the
 * WASI stubs that only return a constant, and the no-op `emscripten_notify_memory_growth`). Every
 * other hostcall dereferences the null context there and crashes Envoy; the host makes it a trap
 * that fails the instantiation.
 */
export const START_SECTION_SAFE_HOSTCALLS: ReadonlySet<string> = new Set([
  "env.emscripten_notify_memory_growth",
  ...underBothWasiModules([
    "args_get",
    "fd_advise",
    "fd_allocate",
    "fd_datasync",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_dir_name",
    "fd_prestat_get",
    "fd_read",
    "fd_renumber",
    "fd_sync",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "sched_yield",
    "sock_shutdown",
  ]),
]);
