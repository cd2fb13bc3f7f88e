import type { Chat } from '@ragnest/db';

/** Generation settings stored per chat (RAGFlow `llm_setting`). */
export interface LlmSetting {
  temperature?: number;
  top_p?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  max_tokens?: number;
  [k: string]: unknown;
}

export interface PromptParameter {
  key: string;
  optional: boolean;
}

/** RAGFlow `prompt_config`. Unknown keys are kept and returned as they were sent. */
export interface PromptConfig {
  system: string;
  prologue: string;
  parameters: PromptParameter[];
  empty_response: string;
  quote: boolean;
  tts: boolean;
  refine_multiturn: boolean;
  [k: string]: unknown;
}

export const DEFAULT_SYSTEM_PROMPT =
  'You are an intelligent assistant. Please summarize the content of the knowledge base to answer the question. ' +
  'Please list the data in the knowledge base and answer in detail. When all knowledge base content is irrelevant to the question, ' +
  'your answer must include the sentence "The answer you are looking for is not found in the knowledge base!" ' +
  'Answers need to consider chat history.\n      Here is the knowledge base:\n      {knowledge}\n      The above is the knowledge base.';
export const DEFAULT_PROLOGUE = "Hi! I'm your assistant. What can I do for you?";
export const DEFAULT_EMPTY_RESPONSE = 'Sorry! No relevant content was found in the knowledge base!';

export const DEFAULT_LLM_SETTING: LlmSetting = { temperature: 0.1, top_p: 0.3, presence_penalty: 0.4, frequency_penalty: 0.7, max_tokens: 512 };

export function defaultPromptConfig(): PromptConfig {
  return {
    system: DEFAULT_SYSTEM_PROMPT,
    prologue: DEFAULT_PROLOGUE,
    parameters: [{ key: 'knowledge', optional: false }],
    empty_response: DEFAULT_EMPTY_RESPONSE,
    quote: true,
    tts: false,
    refine_multiturn: true,
  };
}

export const promptConfigOf = (c: Chat): PromptConfig => ({ ...defaultPromptConfig(), ...(c.promptConfig as Partial<PromptConfig>) });
export const llmSettingOf = (c: Chat): LlmSetting => ({ ...(c.llmSetting as LlmSetting) });
