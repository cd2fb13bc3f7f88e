import type { Readable } from 'node:stream';
import type { ParseSource } from '@ragnest/nlp';
import { ParseError } from '@ragnest/nlp';
import type { ObjectStorage } from '@ragnest/storage';

async function collect(stream: Readable, maxBytes: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      stream.destroy();
      throw new ParseError(`${what} is larger than ${maxBytes} bytes, the most this format can be parsed in memory (PARSE_MAX_IN_MEMORY_BYTES)`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** A ParseSource backed by object storage: parsers stream it, or load it whole when the format needs that. */
export function storageSource(storage: ObjectStorage, key: string, fileName: string, size: number): ParseSource {
  return {
    fileName,
    size,
    stream: () => storage.get(key),
    buffer: async (maxBytes: number) => collect(await storage.get(key), maxBytes, fileName),
  };
}

/** First bytes of an object, for content-based type detection. */
export async function readHead(storage: ObjectStorage, key: string, bytes: number): Promise<Buffer> {
  return collect(await storage.get(key, { start: 0, end: bytes }), bytes + 1, key);
}
