export * from './port.js';
export { OpenAICompatibleChatModel, type OpenAICompatibleChatOptions } from './openai.js';
export {
  DbChatModelResolver,
  parseModelId,
  tenantModelsColumns,
  tenantModelsOf,
  type TenantModels,
  type DbChatModelResolverOptions,
  type DefaultChatModelConfig,
} from './resolver.js';
export { LocalOpenAIServer, type LocalReply, type LocalOpenAIServerOptions } from './local-server.js';
export { extractiveAnswer, citationMarker, EXTRACTIVE_NOTE, EXTRACTIVE_NOTHING, type MarkerStyle } from './extractive.js';
