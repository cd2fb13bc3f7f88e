import { EXTRACTIVE_NOTE, EXTRACTIVE_NOTHING, LlmError } from '@ragnest/llm';
import { AgentRunError, loadDsl, runAgent, type RunInput } from '../../src/index.js';
import { chunk, collect, FakeChatModel, FakeRetrieval, messageText, models } from './fakes.js';

const node = (name: string, downstream: string[] = [], params: Record<string, unknown> = {}, upstream: string[] = []) => ({
  obj: { component_name: name, params },
  downstream,
  upstream,
});

const corpus = [
  chunk('c1', 'RagNest stores chunks in Postgres and indexes them for hybrid search.', 'arch'),
  chunk('c2', 'Foxes are small omnivorous mammals.', 'animals'),
];

/** Begin → Retrieval → Generate → Answer, the legacy knowledge-base template. */
const ragDsl = (generate: Record<string, unknown> = {}, retrieval: Record<string, unknown> = {}) =>
  loadDsl({
    components: {
      begin: node('Begin', ['Retrieval:R'], { prologue: 'Hi', query: [{ key: 'lang', name: 'Language', type: 'line', optional: true, value: 'English' }] }),
      'Retrieval:R': node('Retrieval', ['Generate:G'], { kb_ids: ['ds1'], top_n: 4, similarity_threshold: 0.1, keywords_similarity_weight: 0.3, ...retrieval }, ['begin']),
      'Generate:G': node('Generate', ['Answer:A'], { llm_id: 'gpt-x@OpenAI', prompt: 'Answer in {begin@lang}. Knowledge:\n{input}', temperature: 0.2, ...generate }, [
        'Retrieval:R',
      ]),
      'Answer:A': node('Answer', [], {}, ['Generate:G']),
    },
  });

const input = (query: string, inputs: Record<string, unknown> = {}): RunInput => ({ query, inputs, history: [], userId: 'u1' });
const deps = (model: FakeChatModel | null, retrieval = new FakeRetrieval(corpus), signal = new AbortController().signal) => ({
  retrieval,
  models: models(model),
  signal,
});

describe('runAgent: Begin → Retrieval → Generate → Answer', () => {
  it('retrieves, prompts the model with the knowledge and the Begin variable, streams the answer with the reference', async () => {
    const model = new FakeChatModel((m) => (m[0]!.content.includes('Postgres') ? 'It uses Postgres [ID:0].' : 'no knowledge'));
    const retrieval = new FakeRetrieval(corpus);
    const d = deps(model, retrieval);
    const { events, result } = await collect(runAgent(ragDsl(), input('Where are chunks stored?', { lang: 'French' }), d));
    expect(result.answer).toBe('It uses Postgres [ID:0].');
    expect(messageText(events)).toBe(result.answer);
    expect(events.filter((e) => e.type === 'message').length).toBeGreaterThan(1); // streamed in pieces
    expect(result.reference.chunks.map((c) => c.id)).toEqual(['c1']);
    expect(result.reference.doc_aggs).toEqual([{ doc_id: 'arch', doc_name: 'arch.txt', count: 1 }]);
    expect(retrieval.queries[0]).toMatchObject({ datasetIds: ['ds1'], question: 'Where are chunks stored?', topN: 4, similarityThreshold: 0.1, vectorSimilarityWeight: 0.7 });
    const sent = model.calls[0]!;
    expect(sent.messages[0]!.role).toBe('system');
    expect(sent.messages[0]!.content).toContain('Answer in French. Knowledge:\nID: 0\n├── Title: arch.txt\n└── Content:\nRagNest stores chunks in Postgres');
    expect(sent.messages[0]!.content).toContain('[ID:n]'); // citation instructions
    expect(sent.messages.at(-1)).toEqual({ role: 'user', content: 'Where are chunks stored?' });
    expect(sent.params).toEqual({ temperature: 0.2 });
    expect(d.models.asked).toEqual(['gpt-x@OpenAI']);
    expect(result.usage.completionTokens).toBe(result.answer.length);
    const order = events.filter((e) => e.type === 'node_started').map((e) => (e as { componentId: string }).componentId);
    expect(order).toEqual(['begin', 'Retrieval:R', 'Generate:G', 'Answer:A']);
    expect(events.at(-2)).toMatchObject({ type: 'message_end', reference: { total: 1 } });
  });

  it('uses the Begin default when the input is not given, and history inside the window', async () => {
    const model = new FakeChatModel(() => 'ok');
    const history = [
      { role: 'user' as const, content: 'old question' },
      { role: 'assistant' as const, content: 'old answer' },
    ];
    await collect(runAgent(ragDsl({ message_history_window_size: 1 }), { ...input('Postgres?'), history }, deps(model)));
    expect(model.calls[0]!.messages[0]!.content).toContain('Answer in English.');
    expect(model.calls[0]!.messages.slice(1)).toEqual([
      { role: 'assistant', content: 'old answer' },
      { role: 'user', content: 'Postgres?' },
    ]);
  });

  it('without a chat model answers extractively from the retrieved chunks, plainly marked', async () => {
    const { result } = await collect(runAgent(ragDsl(), input('Where are chunks stored in Postgres?'), deps(null)));
    expect(result.answer.startsWith(EXTRACTIVE_NOTE)).toBe(true);
    expect(result.answer).toContain('- RagNest stores chunks in Postgres and indexes them for hybrid search. [ID:0]');
    expect(result.reference.chunks).toHaveLength(1);
    const none = await collect(runAgent(ragDsl(), input('zzz qqq'), deps(null)));
    expect(none.result.answer).toBe(EXTRACTIVE_NOTHING);
  });

  it("says the Retrieval's empty_response when nothing is found, without calling the model", async () => {
    const model = new FakeChatModel(() => 'should not be called');
    const { result } = await collect(runAgent(ragDsl({}, { empty_response: 'Nothing about that in the knowledge base.' }), input('zzz qqq'), deps(model)));
    expect(result.answer).toBe('Nothing about that in the knowledge base.');
    expect(model.calls).toHaveLength(0);
  });

  it('turns a model failure into an AgentRunError naming the component', async () => {
    const model = new FakeChatModel(() => '', 'm', { failWith: new LlmError('upstream said 401: bad key', 401) });
    await expect(collect(runAgent(ragDsl(), input('Postgres?'), deps(model)))).rejects.toThrow('Generate component "Generate:G": upstream said 401: bad key');
  });

  it('a required Begin input that is missing stops the run with a clear error', async () => {
    const dsl = loadDsl({ components: { begin: node('Begin', [], { inputs: { topic: { name: 'Topic', type: 'line', optional: false } } }) } });
    await expect(collect(runAgent(dsl, input('q'), deps(null)))).rejects.toThrow('The Begin input "topic" (Topic) is required.');
  });

  it('aborting the signal stops the run and the model stream', async () => {
    const model = new FakeChatModel(() => 'a long answer '.repeat(50), 'm', { pieceDelayMs: 5 });
    const ac = new AbortController();
    const gen = runAgent(ragDsl(), input('Postgres?'), deps(model, new FakeRetrieval(corpus), ac.signal));
    let pieces = 0;
    await expect(
      (async () => {
        for await (const e of gen) {
          if (e.type === 'message' && ++pieces === 3) ac.abort();
        }
      })(),
    ).rejects.toThrow(/abort/i);
    expect(pieces).toBeLessThan(10);
    expect(model.calls[0]!.signal.aborted).toBe(true);
  });
});

describe('runAgent: current components and variable references', () => {
  const current = (extra: Record<string, unknown> = {}) =>
    loadDsl({
      components: {
        begin: node('Begin', ['Retrieval:R'], { inputs: { who: { name: 'Who', type: 'line', optional: false } } }),
        'Retrieval:R': node('Retrieval', ['LLM:L'], { kb_ids: ['ds1'], query: 'sys.query' }),
        'LLM:L': node('LLM', ['Message:M'], { sys_prompt: 'Knowledge: {Retrieval:R@formalized_content}', prompts: [{ role: 'user', content: '{begin@who} asks: {sys.query}' }] }),
        'Message:M': node('Message', [], { content: ['Dear {begin@who}: {LLM:L@content} (turn {sys.conversation_turns}, {env.site})'] }),
      },
      globals: { 'env.site': 'ragnest.test' },
      ...extra,
    });

  it('fills references from Begin, sys, env and earlier components, and streams the LLM output inside the Message', async () => {
    const model = new FakeChatModel((m) => `echo<${m.at(-1)!.content}>`);
    const { events, result } = await collect(runAgent(current(), input('what about foxes', { who: 'Ann' }), deps(model)));
    expect(result.answer).toBe('Dear Ann: echo<Ann asks: what about foxes> (turn 1, ragnest.test)');
    expect(messageText(events)).toBe(result.answer);
    expect(model.calls[0]!.messages[0]!.content).toContain('Knowledge: ID: 0\n├── Title: animals.txt');
  });

  it('refuses to run a DSL that reaches a component it cannot run, naming it, before running anything', async () => {
    const dsl = loadDsl({
      components: { begin: node('Begin', ['Retrieval:R']), 'Retrieval:R': node('Retrieval', ['Code:X'], { kb_ids: ['ds1'] }), 'Code:X': node('Code', [], { script: 'print(1)' }) },
    });
    const retrieval = new FakeRetrieval(corpus);
    const run = collect(runAgent(dsl, input('q'), deps(null, retrieval)));
    await expect(run).rejects.toBeInstanceOf(AgentRunError);
    await expect(run).rejects.toThrow('The agent uses the component "Code" (id "Code:X"), which this server cannot run yet.');
    expect(retrieval.queries).toHaveLength(0);
  });

  it('runs an Agent component without tools as an LLM call, and refuses one with tools naming them', async () => {
    const model = new FakeChatModel((m) => `agent saw: ${m.at(-1)!.content}`);
    const plain = loadDsl({
      components: {
        begin: node('Begin', ['Agent:A']),
        'Agent:A': node('Agent', ['Message:M'], { sys_prompt: 'You help.', prompts: [{ role: 'user', content: '{sys.query}' }], tools: [] }),
        'Message:M': node('Message', [], { content: ['{Agent:A@content}'] }),
      },
    });
    expect((await collect(runAgent(plain, input('hello'), deps(model)))).result.answer).toBe('agent saw: hello');
    const withTools = loadDsl({
      components: {
        begin: node('Begin', ['Agent:A']),
        'Agent:A': node('Agent', [], { sys_prompt: 'You help.', tools: [{ component_name: 'Retrieval', params: {} }] }),
      },
    });
    await expect(collect(runAgent(withTools, input('hello'), deps(model)))).rejects.toThrow(
      'The agent\'s Agent component (id "Agent:A") uses tools (Retrieval); tool calling is not supported yet',
    );
  });

  it('stops a DSL loop with a clear error', async () => {
    const dsl = loadDsl({ components: { begin: node('Begin', ['Message:A']), 'Message:A': node('Message', ['Message:B'], { content: 'a' }), 'Message:B': node('Message', ['Message:A'], { content: 'b' }) } });
    await expect(collect(runAgent(dsl, input('q'), deps(null)))).rejects.toThrow(/more than 100 components/);
  });
});

describe('runAgent: branches', () => {
  const categorizeDsl = loadDsl({
    components: {
      begin: node('Begin', ['Categorize:C']),
      'Categorize:C': node('Categorize', [], {
        llm_id: 'cls@Test',
        category_description: {
          product: { description: 'Questions about RagNest', examples: ['How do I upload?'], to: ['Message:P'] },
          other: { description: 'Anything else', to: 'Message:O' },
        },
      }),
      'Message:P': node('Message', [], { content: 'product branch ({Categorize:C@category_name})' }),
      'Message:O': node('Message', [], { content: 'other branch' }),
    },
  });

  it('Categorize follows the category the model names', async () => {
    const model = new FakeChatModel((m) => (m.at(-1)!.content.includes('upload') ? 'product' : 'other'));
    const a = await collect(runAgent(categorizeDsl, input('how to upload files'), deps(model)));
    expect(a.result.answer).toBe('product branch (product)');
    expect(model.calls[0]!.messages[0]!.content).toContain('- product: Questions about RagNest');
    const b = await collect(runAgent(categorizeDsl, input('weather?'), deps(model)));
    expect(b.result.answer).toBe('other branch');
    const ran = b.events.filter((e) => e.type === 'node_started').map((e) => (e as { componentId: string }).componentId);
    expect(ran).toEqual(['begin', 'Categorize:C', 'Message:O']);
  });

  it('Categorize takes the last category when the reply names none, and needs a model', async () => {
    const vague = new FakeChatModel(() => 'I am not sure');
    expect((await collect(runAgent(categorizeDsl, input('x'), deps(vague)))).result.answer).toBe('other branch');
    await expect(collect(runAgent(categorizeDsl, input('x'), deps(null)))).rejects.toThrow('Categorize component "Categorize:C" needs a chat model');
  });

  const switchDsl = loadDsl({
    components: {
      begin: node('Begin', ['Switch:S'], { inputs: { n: { name: 'N', type: 'line', optional: true, value: '' } } }),
      'Switch:S': node('Switch', [], {
        conditions: [
          { logical_operator: 'and', items: [{ cpn_id: 'sys.query', operator: 'contains', value: 'refund' }], to: ['Message:Refund'] },
          {
            logical_operator: 'or',
            items: [
              { cpn_id: 'begin@n', operator: '≥', value: '10' },
              { cpn_id: 'sys.query', operator: 'start with', value: 'big' },
            ],
            to: 'Message:Big',
          },
        ],
        end_cpn_ids: ['Message:Else'],
      }),
      'Message:Refund': node('Message', [], { content: 'refund' }),
      'Message:Big': node('Message', [], { content: 'big {begin@n}' }),
      'Message:Else': node('Message', [], { content: 'else' }),
    },
  });

  it.each([
    ['I want a REFUND', {}, 'refund'],
    ['hello', { n: '12' }, 'big 12'],
    ['big order', { n: '3' }, 'big 3'],
    ['hello', { n: '3' }, 'else'],
    ['hello', {}, 'else'],
  ])('Switch: %s %j → %s', async (q, inputs, expected) => {
    const { result } = await collect(runAgent(switchDsl, input(q, inputs), deps(null)));
    expect(result.answer).toBe(expected);
  });
});
