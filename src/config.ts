// Configuration lives in config/: the only code that reads the environment and argv (the entry
// points hand process.env and argv over). One option table (config/options.ts), one module per
// command, one help renderer, shared value checks. Every setting has a flag and an environment
// variable (the flag wins); every value is checked at start and the result is frozen. This file
// re-exports what the entry points and edges use.

export { type ApiConfig, apiHelp } from "./config/api.js";
export { ConfigError, duration } from "./config/checks.js";
export { type Command, parseCommand } from "./config/command.js";
export { mainHelp } from "./config/help.js";
export { type MutateConfig, mutateHelp } from "./config/mutate.js";
export { API_OPTIONS, ENV_PREFIX, SERVE_OPTIONS } from "./config/options.js";
export { policyOf } from "./config/policy.js";
export { parseSecretCommand, type SecretCliConfig, secretCliHelp } from "./config/secret-cli.js";
export { type ServeConfig, serveHelp } from "./config/serve.js";
export type { CertificateManagement } from "./config/server.js";
