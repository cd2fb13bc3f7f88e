export * from './port.js';
export { OpenAICompatibleChatModel, type OpenAICompatibleChatOptions } from './openai.js';
export { DbChatModelResolver, parseModelId, type DbChatModelResolverOptions, type DefaultChatModelConfig } from './resolver.js';
export { LocalOpenAIServer, type LocalReply, type LocalOpenAIServerOptions } from './local-server.js';
