/** Which chat model a tenant gets: chat setting, tenant default, provider rows in Postgres, env default. */
import { createPrisma, type PrismaClient } from '@ragnest/db';
import { DbChatModelResolver, LlmError, parseModelId } from '@ragnest/llm';
import { createTestDatabase, type TestDatabase } from '@ragnest/testkit';

let tdb: TestDatabase;
let db: PrismaClient;

beforeAll(async () => {
  tdb = await createTestDatabase('llmresolver');
  db = createPrisma(tdb.url, { poolSize: 2 });
  await db.tenant.create({ data: { id: 't1', name: 't1' } });
  await db.tenant.create({ data: { id: 't2', name: 't2', llmId: 'qwen-plus@Tongyi-Qianwen' } });
  await db.tenantLlm.create({ data: { tenantId: 't2', llmFactory: 'Tongyi-Qianwen', apiKey: 'sk-q' } });
  await db.tenantLlm.create({ data: { tenantId: 't2', llmFactory: 'Ollama', apiBase: 'http://ollama:11434' } });
  await db.tenantLlm.create({ data: { tenantId: 't2', llmFactory: 'Mystery' } });
});
afterAll(async () => {
  await db?.$disconnect();
  await tdb?.drop();
});

test('parseModelId', () => {
  expect(parseModelId('gpt-4o___OpenAI-API@OpenAI-API-Compatible')).toEqual({ model: 'gpt-4o', factory: 'OpenAI-API-Compatible' });
  expect(parseModelId('deepseek-r1:1.5b')).toEqual({ model: 'deepseek-r1:1.5b', factory: '' });
  expect(parseModelId('qwen@x@Tongyi-Qianwen')).toEqual({ model: 'qwen@x', factory: 'Tongyi-Qianwen' });
});

test('no tenant model and no default: null (extractive answers)', async () => {
  const r = new DbChatModelResolver(db, { timeoutMs: 1000 });
  expect(await r.resolve('t1')).toBeNull();
  await expect(r.resolve('t1', 'gpt-4o@OpenAI')).rejects.toBeInstanceOf(LlmError);
});

test('the env default serves tenants without their own model, under any model name of its factory', async () => {
  const r = new DbChatModelResolver(db, { timeoutMs: 1000, default: { baseUrl: 'http://local/v1', model: 'm1', factory: 'OpenAI-API-Compatible' } });
  expect((await r.resolve('t1'))!.id).toBe('m1@OpenAI-API-Compatible');
  expect((await r.resolve('t1', 'deepseek-r1:1.5b'))!.id).toBe('deepseek-r1:1.5b@OpenAI-API-Compatible');
  await expect(r.resolve('t1', 'gpt-4o@OpenAI')).rejects.toThrow('set its provider\'s API key');
});

test("a tenant's own provider rows win; known factories need no base URL; unknown ones do", async () => {
  const r = new DbChatModelResolver(db, { timeoutMs: 1000, default: { baseUrl: 'http://local/v1', model: 'm1', factory: 'OpenAI-API-Compatible' } });
  expect((await r.resolve('t2'))!.id).toBe('qwen-plus@Tongyi-Qianwen');
  expect((await r.resolve('t2', 'llama3@Ollama'))!.id).toBe('llama3@Ollama');
  await expect(r.resolve('t2', 'x@Mystery')).rejects.toThrow('No base URL is configured for the model provider Mystery');
  // the same configuration gives the same client
  expect(await r.resolve('t2')).toBe(await r.resolve('t2'));
});
