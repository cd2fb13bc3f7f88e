import { Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { parseImageId, type PrismaClient } from '@ragnest/db';
import { dataError } from '@ragnest/contracts';
import { InjectDb, InjectStorage } from '@ragnest/runtime';
import { ObjectNotFoundError, chunkImageKey, type ObjectStorage } from '@ragnest/storage';
import { imageMime } from './image-type.js';

/** Chunk pictures are small (parsers cap image sizes); this bounds what one request buffers. */
const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

const notFound = () => dataError('Image not found.');

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of stream) {
    size += (part as Buffer).length;
    if (size > MAX_IMAGE_BYTES) {
      stream.destroy();
      throw notFound();
    }
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts);
}

/**
 * Chunk pictures by RAGFlow image id ("<dataset_id>-<chunk_id>"). Only the owning tenant may read them: the
 * id names a chunk of one of the caller's datasets, otherwise the answer is "Image not found." (the same as
 * for an id that does not exist, so ids of other tenants cannot be probed).
 */
@Injectable()
export class ImagesService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @InjectStorage() private readonly storage: ObjectStorage,
  ) {}

  async read(tenantId: string, imageId: string): Promise<{ data: Buffer; contentType: string }> {
    const id = parseImageId(imageId);
    if (!id) throw notFound();
    const chunk = await this.db.chunk.findFirst({
      where: { id: id.chunkId, datasetId: id.datasetId, tenantId, imageId },
      select: { id: true, datasetId: true, documentId: true, generation: true },
    });
    if (!chunk) throw notFound();
    let data: Buffer;
    try {
      data = await readAll(await this.storage.get(chunkImageKey(chunk.datasetId, chunk.documentId, chunk.generation, chunk.id)));
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw notFound();
      throw err;
    }
    const contentType = imageMime(data);
    if (!contentType) throw notFound();
    return { data, contentType };
  }
}
