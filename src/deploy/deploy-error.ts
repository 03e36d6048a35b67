/** A deploy configuration that would be rejected by the target (or is unsafe); the message says which field and why. */
export class DeployConfigError extends Error {
  override readonly name = "DeployConfigError";
}
