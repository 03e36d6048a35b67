/**
 * The static description of a plugin (Envoy `PluginConfig`) as hostcalls need it.
 */
export interface PluginInfo {
  /** Envoy `name`. */
  readonly name: string;
  /** Envoy `root_id`. */
  readonly rootId: string;
  /** Envoy `vm_config.vm_id`: the partition for shared data and queues. */
  readonly vmId: string;
  /** Plugin configuration bytes (buffer 7), readable only in root create/configure. */
  readonly configuration: Uint8Array;
  /** Envoy ≥ 1.35 knob: a headers StopIteration stays StopIteration instead of stopping all. */
  readonly allowOnHeadersStopIteration: boolean;
  /** Values for properties this host does not compute (e.g. `xds.cluster_name`); see properties. */
  readonly properties: PropertyTree;
}

/** A property value as configured by the user; encoded as Envoy encodes CEL values (§3.4). */
export type PropertyValue =
  | string
  | Uint8Array
  | number
  | bigint
  | boolean
  | Date
  | null
  | { readonly duration: number }
  | readonly PropertyValue[]
  | PropertyTree;

export interface PropertyTree {
  readonly [name: string]: PropertyValue;
}
