import { randomBytes } from 'node:crypto';
import { v1 as uuidv1 } from 'uuid';
import { xxh64 } from '@node-rs/xxhash';

/** RAGFlow primary ids: uuid1 hex (32 lower-case hex chars, version 1). */
export function newId(): string {
  return uuidv1().replace(/-/g, '');
}

const UUID1_HEX = /^[0-9a-f]{12}1[0-9a-f]{3}[89ab][0-9a-f]{15}$/;
export function isUuid1Hex(s: string): boolean {
  return UUID1_HEX.test(s);
}

/** RAGFlow chunk id: xxhash64(content + document_id) as 16 hex chars; identical content in a document = same chunk. */
export function chunkIdFor(content: string, documentId: string): string {
  return xxh64(content + documentId).toString(16).padStart(16, '0');
}

/** RAGFlow API key format: "ragflow-" + urlsafe token. */
export function newApiKey(): string {
  return `ragflow-${randomBytes(24).toString('base64url')}`;
}

/** RAGFlow "beta" token (embed/share): 32 chars. */
export function newBetaToken(): string {
  return randomBytes(24).toString('base64url').slice(0, 32);
}

/** RAGFlow image id of a chunk's picture: "<dataset_id>-<chunk_id>". */
export function imageIdFor(datasetId: string, chunkId: string): string {
  return `${datasetId}-${chunkId}`;
}

/** Splits an image id at its first hyphen (RAGFlow); null when it cannot be one of ours. */
export function parseImageId(imageId: string): { datasetId: string; chunkId: string } | null {
  const m = /^([0-9a-f]{32})-([0-9a-f]{16})$/.exec(imageId);
  return m ? { datasetId: m[1]!, chunkId: m[2]! } : null;
}
