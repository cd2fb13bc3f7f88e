import { z } from 'zod';

/**
 * RAGFlow canvas DSL (internals §5): `components` maps an id to `{obj: {component_name, params}, downstream, upstream}`;
 * everything else (`graph` for the front-end, `history`, `path`, `messages`, `globals`, …) is kept as sent.
 */
const componentSchema = z.looseObject({
  obj: z.looseObject({
    component_name: z.string().min(1),
    params: z.record(z.string(), z.unknown()).optional(),
  }),
  downstream: z.array(z.string()).optional(),
  upstream: z.array(z.string()).optional(),
  parent_id: z.string().optional(),
});

const dslSchema = z.looseObject({
  components: z.record(z.string().min(1), componentSchema),
  globals: z.record(z.string(), z.unknown()).optional(),
});

export type DslComponent = z.infer<typeof componentSchema>;
export type CanvasDsl = z.infer<typeof dslSchema>;

/** A DSL the runtime can load: ids, names and params normalised. */
export interface LoadedComponent {
  id: string;
  name: string;
  params: Record<string, unknown>;
  downstream: string[];
  upstream: string[];
}
export interface LoadedDsl {
  components: Map<string, LoadedComponent>;
  globals: Record<string, unknown>;
}

/** The DSL is not a canvas we can store: the message says where and why. */
export class DslError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DslError';
  }
}

const where = (path: PropertyKey[]) => (path.length ? path.map(String).join('.') : '(root)');

/** Branch targets of Categorize (`category_description.*.to`) and Switch (`conditions[*].to`, `end_cpn_ids`). */
export function branchTargets(c: LoadedComponent): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string' && v) out.push(v);
    else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string' && x) out.push(x);
  };
  if (c.name === 'Categorize') {
    const cats = c.params.category_description;
    if (cats && typeof cats === 'object') for (const cat of Object.values(cats as Record<string, unknown>)) add((cat as { to?: unknown } | null)?.to);
  }
  if (c.name === 'Switch') {
    const conds = c.params.conditions;
    if (Array.isArray(conds)) for (const cond of conds) add((cond as { to?: unknown } | null)?.to);
    add(c.params.end_cpn_ids);
    add(c.params.end_cpn_id);
  }
  return out;
}

/**
 * Parses and checks a canvas DSL. Refuses what no runtime could load (not an object, no components, no
 * Begin component with id "begin", edges or branches pointing at components that do not exist, params of a
 * known component with the wrong shape). Components we do not run yet are accepted as they are.
 */
export function loadDsl(input: unknown): LoadedDsl {
  if (typeof input === 'string') {
    try {
      input = JSON.parse(input);
    } catch {
      throw new DslError('Invalid DSL: not valid JSON.');
    }
  }
  const res = dslSchema.safeParse(input);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    const msg = issue.code === 'invalid_type' && issue.message.includes('received undefined') ? 'is required' : issue.message;
    throw new DslError(`Invalid DSL: ${where(issue.path)} ${msg}.`);
  }
  const dsl = res.data;
  const components = new Map<string, LoadedComponent>();
  for (const [id, c] of Object.entries(dsl.components)) {
    components.set(id, {
      id,
      name: c.obj.component_name,
      params: c.obj.params ?? {},
      downstream: c.downstream ?? [],
      upstream: c.upstream ?? [],
    });
  }
  const begin = components.get('begin');
  if (!begin) throw new DslError('Invalid DSL: components must contain the Begin component with the id "begin".');
  if (begin.name !== 'Begin') throw new DslError(`Invalid DSL: component "begin" must be a Begin component, not ${begin.name}.`);
  for (const c of components.values()) {
    if (c.name === 'Begin' && c.id !== 'begin') throw new DslError(`Invalid DSL: only one Begin component is allowed, with the id "begin" (found "${c.id}").`);
    for (const [field, ids] of [
      ['downstream', c.downstream],
      ['upstream', c.upstream],
    ] as const) {
      const missing = ids.find((d) => !components.has(d));
      if (missing !== undefined) throw new DslError(`Invalid DSL: components.${c.id}.${field} refers to "${missing}", which is not a component.`);
    }
    const paramsCheck = PARAM_SCHEMAS[c.name]?.safeParse(c.params);
    if (paramsCheck && !paramsCheck.success) {
      const issue = paramsCheck.error.issues[0]!;
      throw new DslError(`Invalid DSL: components.${c.id}.obj.params.${where(issue.path)}: ${issue.message}.`);
    }
    const missingTarget = branchTargets(c).find((t) => !components.has(t));
    if (missingTarget !== undefined) throw new DslError(`Invalid DSL: ${c.name} component "${c.id}" branches to "${missingTarget}", which is not a component.`);
  }
  return { components, globals: dsl.globals ?? {} };
}

const stringOrList = z.union([z.string(), z.array(z.string())]);
const num = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).optional();

/** Shapes of the params the runtime reads, for the components it runs; other keys pass. */
const PARAM_SCHEMAS: Record<string, z.ZodType> = {
  Retrieval: z.looseObject({
    kb_ids: z.array(z.string()).optional(),
    top_n: num,
    top_k: num,
    similarity_threshold: num,
    keywords_similarity_weight: num,
    empty_response: z.string().nullable().optional(),
    query: z.unknown().optional(),
  }),
  Categorize: z.looseObject({
    category_description: z.record(z.string(), z.looseObject({ description: z.string().optional(), examples: z.unknown().optional(), to: stringOrList.optional() })),
  }),
  Switch: z.looseObject({
    conditions: z
      .array(
        z.looseObject({
          logical_operator: z.string().optional(),
          items: z.array(z.looseObject({ cpn_id: z.string(), operator: z.string(), value: z.unknown().optional() })),
          to: stringOrList,
        }),
      )
      .optional(),
    end_cpn_ids: stringOrList.optional(),
    end_cpn_id: z.string().optional(),
  }),
  Generate: z.looseObject({ prompt: z.string().optional(), llm_id: z.string().optional() }),
  LLM: z.looseObject({
    sys_prompt: z.string().optional(),
    prompts: z.array(z.looseObject({ role: z.string().optional(), content: z.string() })).optional(),
    llm_id: z.string().optional(),
  }),
  Agent: z.looseObject({
    sys_prompt: z.string().optional(),
    prompts: z.array(z.looseObject({ role: z.string().optional(), content: z.string() })).optional(),
    llm_id: z.string().optional(),
    tools: z.array(z.unknown()).optional(),
  }),
  Message: z.looseObject({ content: stringOrList.optional() }),
};
