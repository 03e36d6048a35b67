// The AssemblyScript end of the error protocol (see src/testing/aspect/test-imports.ts): the JS
// side never throws into the module, because as-pect would report that with an empty message.
// It stores the message instead, and every wrapper calls `check()` right after the import.

import { has_error, take_error } from "./imports";

/** Aborts the running test with the host's message when the last operation failed. */
export function check(): void {
  if (has_error() != 0) throw new Error(take_error());
}
