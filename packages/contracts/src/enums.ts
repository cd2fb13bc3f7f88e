/** RAGFlow document `run` statuses (text form, as the REST API returns them). */
export const RunStatus = {
  UNSTART: 'UNSTART',
  RUNNING: 'RUNNING',
  CANCEL: 'CANCEL',
  DONE: 'DONE',
  FAIL: 'FAIL',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** RAGFlow stores run as "0".."4"; clients may filter with either form. */
export const RUN_NUMERIC: Record<string, RunStatus> = {
  '0': 'UNSTART',
  '1': 'RUNNING',
  '2': 'CANCEL',
  '3': 'DONE',
  '4': 'FAIL',
};

export const TaskState = {
  QUEUED: 'QUEUED',
  RUNNING: 'RUNNING',
  DONE: 'DONE',
  FAIL: 'FAIL',
  CANCEL: 'CANCEL',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** RAGFlow's chunk methods (classic enum). */
export const CHUNK_METHODS = [
  'naive', 'book', 'email', 'laws', 'manual', 'one', 'paper', 'picture', 'presentation', 'qa', 'table', 'tag',
] as const;
export type ChunkMethod = (typeof CHUNK_METHODS)[number];

/** Document update accepts these (RAGFlow 4.3). */
export const DOCUMENT_CHUNK_METHODS = [
  'naive', 'manual', 'qa', 'table', 'paper', 'book', 'laws', 'presentation', 'picture', 'one', 'knowledge_graph', 'email', 'tag',
] as const;

/** Chunk methods this build can run; the others are refused at parse time with a clear message. */
export const IMPLEMENTED_CHUNK_METHODS: readonly string[] = [
  'naive', 'qa', 'table', 'paper', 'book', 'laws', 'manual', 'presentation', 'picture', 'one', 'email',
];

export const BUILTIN_EMBEDDING_MODEL = 'ragnest-hashing-v1@Builtin';
