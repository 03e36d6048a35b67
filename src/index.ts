/**
 * proxy-wasm-as, Node side: the host and the test kit.
 */
export * from "./host";
export * from "./testing";
export {
  CONFIG_SCHEMA_SECTION, ConfigSchemaError, readConfigSchema, configSchemaFilePath, configTypeScript, configTypesPath, type CarriedConfigSchema, type JsonSchema,
} from "./config/config-schema";
