// The deliberately failing jest case, selected only by this config.
import base from "./jest.config.mjs";

export default { ...base, testMatch: ["<rootDir>/tests/testing/runners/failing/*.jest.ts"] };
