import { LlmError, type ChatModel, type ChatModelResolver } from '@ragnest/llm';
import { AgentModelsAdapter } from '../../src/agents/adapters/chat-models.adapter.js';

const model = (id: string): ChatModel => ({
  id,
  stream: () => {
    throw new Error('not used');
  },
  complete: () => Promise.reject(new Error('not used')),
});

/** A resolver over a fixed table: tenant → default model id and configured model ids. */
function resolver(table: Record<string, { default?: string; models: string[] }>): ChatModelResolver {
  return {
    resolve: async (tenantId, name) => {
      const t = table[tenantId] ?? { models: [] };
      const want = name ?? t.default;
      if (!want) return null;
      if (!t.models.includes(want)) throw new LlmError(`The model ${want} is not configured`, 400);
      return model(want);
    },
  };
}

describe('AgentModelsAdapter', () => {
  const adapter = new AgentModelsAdapter(resolver({ rich: { default: 'a@X', models: ['a@X', 'b@Y'] }, poor: { models: [] } }));

  test("a component's llm_id, else the tenant default", async () => {
    expect((await adapter.forTenant('rich').resolve('b@Y'))!.id).toBe('b@Y');
    expect((await adapter.forTenant('rich').resolve(undefined))!.id).toBe('a@X');
  });

  test('a tenant with no model at all gets null (extractive answers), even when the DSL names one', async () => {
    expect(await adapter.forTenant('poor').resolve(undefined)).toBeNull();
    expect(await adapter.forTenant('poor').resolve('gpt-4o___OpenAI-API@OpenAI-API-Compatible')).toBeNull();
  });

  test('a tenant with models but not the named one gets the resolver error', async () => {
    await expect(adapter.forTenant('rich').resolve('c@Z')).rejects.toThrow('The model c@Z is not configured');
  });
});
