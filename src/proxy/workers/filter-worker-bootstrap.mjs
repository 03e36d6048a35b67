// Loads the filter worker. In a source checkout the worker is TypeScript, and loader hooks of
// the main thread (`--import tsx` or tsx's API) do not reach a worker thread: register tsx here.
import { workerData } from "node:worker_threads";

if (workerData.entry.endsWith(".ts")) {
  const { register } = await import("tsx/esm/api");
  register();
}
await import(workerData.entry);
