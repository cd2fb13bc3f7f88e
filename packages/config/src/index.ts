export { envSchema, type Env } from './schema.js';
export { loadConfig, ConfigError, type AppConfig } from './config.js';
