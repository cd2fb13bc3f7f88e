/** RAGFlow's server-side parser_config defaulting (`get_parser_config`, classic v0.24, spec §3.2). */

const RAPTOR_PROMPT =
  'Please summarize the following paragraphs. Be careful with the numbers, do not make things up. Paragraphs as following:\n      {cluster_content}\nThe above is the content you need to summarize.';

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Json, v) : v;
  }
  return out;
}

function methodDefaults(method: string): Json {
  switch (method) {
    case 'naive':
      return {
        layout_recognize: 'DeepDOC',
        chunk_token_num: 512,
        delimiter: '\n',
        auto_keywords: 0,
        auto_questions: 0,
        html4excel: false,
        topn_tags: 3,
        raptor: { use_raptor: true, prompt: RAPTOR_PROMPT, max_token: 256, threshold: 0.1, max_cluster: 64, random_seed: 0 },
        graphrag: { use_graphrag: true, entity_types: ['organization', 'person', 'geo', 'event', 'category'], method: 'light' },
      };
    case 'qa':
    case 'manual':
    case 'paper':
    case 'book':
    case 'laws':
    case 'presentation':
      return { raptor: { use_raptor: false }, graphrag: { use_graphrag: false } };
    case 'knowledge_graph':
      return {
        chunk_token_num: 8192,
        delimiter: '\\n',
        entity_types: ['organization', 'person', 'location', 'event', 'time'],
        raptor: { use_raptor: false },
        graphrag: { use_graphrag: false },
      };
    default:
      return {};
  }
}

/** The fully dumped pydantic ParserConfig defaults, used once a client sends any parser_config. */
export const PYDANTIC_PARSER_DEFAULTS: Json = {
  auto_keywords: 0,
  auto_questions: 0,
  chunk_token_num: 512,
  delimiter: '\\n',
  graphrag: { use_graphrag: false, entity_types: ['organization', 'person', 'geo', 'event', 'category'], method: 'light', community: false, resolution: false },
  html4excel: false,
  layout_recognize: 'DeepDOC',
  raptor: {
    use_raptor: false,
    prompt: RAPTOR_PROMPT,
    max_token: 256,
    threshold: 0.1,
    max_cluster: 64,
    random_seed: 0,
    auto_disable_for_structured_data: true,
  },
  tag_kb_ids: [],
  topn_tags: 1,
  filename_embd_weight: 0.1,
  task_page_size: null,
  pages: null,
};

/** parser_config stored for a dataset/document created with `method` and the client's (validated) config. */
export function parserConfigFor(method: string, user: Json | null | undefined, llmId: string): Json {
  let cfg = deepMerge({ table_context_size: 0, image_context_size: 0 }, methodDefaults(method));
  if (user && Object.keys(user).length > 0) cfg = deepMerge(cfg, deepMerge(PYDANTIC_PARSER_DEFAULTS, user));
  return { ...cfg, llm_id: llmId };
}
