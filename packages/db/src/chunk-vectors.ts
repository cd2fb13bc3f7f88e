import { statement } from './hot-reads.js';

/**
 * Stores chunk vectors: $1 model, $2 chunk ids, $3 vectors (base64 of the little-endian Float32 bytes). A chunk
 * deleted meanwhile (a re-parse or a stop) is skipped, so a late batch is a no-op rather than a foreign-key error.
 */
export const PUT_VECTORS = statement(
  'put_chunk_vectors',
  `INSERT INTO chunk_vector (chunk_id, model, vector, updated_at)
   SELECT u.id, $1, decode(u.v, 'base64'), now()
   FROM unnest($2::text[], $3::text[]) AS u(id, v) WHERE EXISTS (SELECT 1 FROM chunk c WHERE c.id = u.id)
   ON CONFLICT (chunk_id) DO UPDATE SET model = excluded.model, vector = excluded.vector, updated_at = now()`,
  { planEachTime: true },
);

/** PUT_VECTORS's $3. */
export const vectorsParam = (vectors: readonly Uint8Array[]): string[] => vectors.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));
