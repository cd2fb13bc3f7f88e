import { DslError, loadDsl } from '../../src/index.js';

const node = (name: string, downstream: string[] = [], params: Record<string, unknown> = {}, upstream: string[] = []) => ({
  obj: { component_name: name, params },
  downstream,
  upstream,
});

const ok = {
  components: {
    begin: node('Begin', ['Retrieval:A'], { prologue: 'Hi' }),
    'Retrieval:A': node('Retrieval', ['Generate:B'], { kb_ids: ['ds1'] }, ['begin']),
    'Generate:B': node('Generate', ['Answer:C'], { prompt: 'Use {input}' }, ['Retrieval:A']),
    'Answer:C': node('Answer', [], {}, ['Generate:B']),
  },
  graph: { nodes: [], edges: [] },
  history: [],
  path: [],
};

const refused = (dsl: unknown) => {
  try {
    loadDsl(dsl);
  } catch (e) {
    expect(e).toBeInstanceOf(DslError);
    return (e as Error).message;
  }
  throw new Error('DSL was accepted');
};

describe('loadDsl', () => {
  it('loads a RAGFlow canvas and keeps names, params and edges', () => {
    const d = loadDsl(ok);
    expect([...d.components.keys()]).toEqual(['begin', 'Retrieval:A', 'Generate:B', 'Answer:C']);
    expect(d.components.get('Retrieval:A')).toMatchObject({ name: 'Retrieval', params: { kb_ids: ['ds1'] }, downstream: ['Generate:B'], upstream: ['begin'] });
  });

  it('accepts the DSL as a JSON string (the web UI sends it that way)', () => {
    expect(loadDsl(JSON.stringify(ok)).components.size).toBe(4);
  });

  it('accepts components it does not run yet', () => {
    const d = loadDsl({ components: { begin: node('Begin', ['TavilySearch:X']), 'TavilySearch:X': node('TavilySearch', [], { api_key: 'k' }) } });
    expect(d.components.get('TavilySearch:X')!.name).toBe('TavilySearch');
  });

  it('refuses what no runtime could load, saying where', () => {
    expect(refused('{not json')).toBe('Invalid DSL: not valid JSON.');
    expect(refused([])).toMatch(/^Invalid DSL: \(root\) /);
    expect(refused({ graph: {} })).toMatch(/^Invalid DSL: components /);
    expect(refused({ components: { begin: { obj: { params: {} } } } })).toMatch(/^Invalid DSL: components\.begin\.obj\.component_name /);
    expect(refused({ components: { 'Answer:A': node('Answer') } })).toBe('Invalid DSL: components must contain the Begin component with the id "begin".');
    expect(refused({ components: { begin: node('Answer') } })).toBe('Invalid DSL: component "begin" must be a Begin component, not Answer.');
    expect(refused({ components: { begin: node('Begin', ['Nope:1']) } })).toBe('Invalid DSL: components.begin.downstream refers to "Nope:1", which is not a component.');
    expect(refused({ components: { begin: node('Begin'), 'Begin:2': node('Begin') } })).toContain('only one Begin component');
  });

  it('checks the params of components it runs', () => {
    expect(refused({ components: { begin: node('Begin', ['R']), R: node('Retrieval', [], { kb_ids: 'ds1' }) } })).toMatch(/^Invalid DSL: components\.R\.obj\.params\.kb_ids: /);
    expect(refused({ components: { begin: node('Begin', ['S']), S: node('Switch', [], { conditions: [{ items: 'x', to: 'begin' }] }) } })).toMatch(
      /components\.S\.obj\.params\.conditions\.0\.items/,
    );
    expect(
      refused({ components: { begin: node('Begin', ['C']), C: node('Categorize', [], { category_description: { a: { to: ['Missing:1'] } } }) } }),
    ).toBe('Invalid DSL: Categorize component "C" branches to "Missing:1", which is not a component.');
  });
});
