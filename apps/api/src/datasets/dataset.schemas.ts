import { z } from 'zod';
import { CHUNK_METHODS } from '@ragnest/contracts';

const AVATAR_MIMES = ['image/jpeg', 'image/png'];

const avatar = z
  .string()
  .max(65535)
  .superRefine((v, ctx) => {
    if (!v.includes(',')) return ctx.addIssue({ code: 'custom', message: 'Missing MIME prefix. Expected format: data:<mime>;base64,<data>' });
    const prefix = v.split(',', 1)[0]!;
    if (!prefix.startsWith('data:')) return ctx.addIssue({ code: 'custom', message: "Invalid MIME prefix format. Must start with 'data:'" });
    const mime = prefix.slice(5).split(';', 1)[0]!;
    if (!AVATAR_MIMES.includes(mime)) ctx.addIssue({ code: 'custom', message: "Unsupported MIME type. Allowed: ['image/jpeg', 'image/png']" });
  });

const embeddingModel = z
  .string()
  .max(255)
  .transform((s) => s.trim());

const intRange = (min: number, max?: number) => {
  let s = z.number().int().min(min);
  if (max !== undefined) s = s.max(max);
  return s;
};

/** Validated parser_config fields (RAGFlow ParserConfig); unknown keys are kept as sent. */
export const parserConfigSchema = z
  .object({
    auto_keywords: intRange(0, 32).optional(),
    auto_questions: intRange(0, 10).optional(),
    chunk_token_num: intRange(1, 2048).optional(),
    delimiter: z.string().min(1).optional(),
    html4excel: z.boolean().optional(),
    layout_recognize: z.string().optional(),
    tag_kb_ids: z.array(z.string()).optional(),
    topn_tags: intRange(1, 10).optional(),
    filename_embd_weight: z.number().min(0).max(1).optional(),
    task_page_size: intRange(1).nullable().optional(),
    pages: z.array(z.array(z.number().int())).nullable().optional(),
    overlapped_percent: z.number().min(0).max(90).optional(),
    raptor: z
      .object({
        use_raptor: z.boolean().optional(),
        prompt: z.string().optional(),
        max_token: intRange(1, 2048).optional(),
        threshold: z.number().min(0).max(1).optional(),
        max_cluster: intRange(1, 1024).optional(),
        random_seed: intRange(0).optional(),
        auto_disable_for_structured_data: z.boolean().optional(),
      })
      .loose()
      .optional(),
    graphrag: z
      .object({
        use_graphrag: z.boolean().optional(),
        entity_types: z.array(z.string()).optional(),
        method: z.enum(['light', 'general']).optional(),
        community: z.boolean().optional(),
        resolution: z.boolean().optional(),
      })
      .loose()
      .optional(),
  })
  .loose()
  .nullable()
  .refine((v) => v === null || JSON.stringify(v).length <= 65535, { message: 'Parser config exceeds size limit (max 65,535 characters)' });

const common = {
  avatar: avatar.nullable().optional(),
  description: z.string().max(65535).nullable().optional(),
  embedding_model: embeddingModel.nullable().optional(),
  permission: z.enum(['me', 'team']).optional(),
  chunk_method: z.enum(CHUNK_METHODS).optional(),
  parse_type: z.number().int().min(0).max(64).optional(),
  pipeline_id: z.string().regex(/^[0-9a-f]{32}$/).nullable().optional(),
  parser_config: parserConfigSchema.optional(),
  /** ragflow-sdk 0.27 sends it (often null); stored as parser_config.metadata / enable_metadata */
  auto_metadata_config: z.record(z.string(), z.unknown()).nullable().optional(),
};

export const createDatasetSchema = z.strictObject({
  name: z.string().transform((s) => s.trim()).pipe(z.string().min(1).max(128)),
  ...common,
});
export type CreateDatasetInput = z.infer<typeof createDatasetSchema>;

export const updateDatasetSchema = z.strictObject({
  name: z.string().transform((s) => s.trim()).pipe(z.string().min(1).max(128)).optional(),
  pagerank: z.number().int().min(0).max(100).optional(),
  ...common,
});
export type UpdateDatasetInput = z.infer<typeof updateDatasetSchema>;

const boolish = z
  .string()
  .transform((s, ctx) => {
    const v = s.toLowerCase();
    if (['true', '1', 'yes', 'y', 'on', 't'].includes(v)) return true;
    if (['false', '0', 'no', 'n', 'off', 'f'].includes(v)) return false;
    ctx.addIssue({ code: 'custom', message: 'Input should be a valid boolean, unable to interpret input' });
    return z.NEVER;
  });

const positiveIntString = z
  .string()
  .transform((s, ctx) => {
    const n = Number(s);
    if (!/^-?\d+$/.test(s.trim())) {
      ctx.addIssue({ code: 'custom', message: 'Input should be a valid integer, unable to parse string as an integer' });
      return z.NEVER;
    }
    return n;
  })
  .pipe(z.number().int().min(1));

export const listDatasetsQuerySchema = z.strictObject({
  page: positiveIntString.optional(),
  page_size: positiveIntString.optional(),
  orderby: z.enum(['create_time', 'update_time']).optional(),
  desc: boolish.optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  ids: z.union([z.string(), z.array(z.string())]).optional(),
  include_parsing_status: z.string().optional(),
});

export const deleteDatasetsSchema = z.strictObject({
  ids: z.array(z.string()).nullable(),
  delete_all: z.boolean().optional(),
});
