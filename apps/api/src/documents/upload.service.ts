import { PassThrough, Transform, type Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import busboy from 'busboy';
import { isUniqueViolation, newId, Prisma, type Document, type PrismaClient } from '@ragnest/db';
import { DomainError, RetCode, argumentError } from '@ragnest/contracts';
import { detectFileType, type DetectedType } from '@ragnest/nlp';
import { ObjectTooLargeError, type ObjectStorage } from '@ragnest/storage';
import { InjectConfig } from '@ragnest/runtime';
import type { AppConfig } from '@ragnest/config';
import { getLogger } from '@ragnest/logger';
import { InjectDb, InjectStorage } from '@ragnest/runtime';
import { chunkMethodForFile, dedupeName, suffixOf } from './names.js';

const HEAD_BYTES = 64 * 1024;

interface StoredFile {
  id: string;
  fileName: string;
  key: string;
  size: number;
  detected: DetectedType;
}

class UploadRejected extends Error {
  constructor(readonly domain: DomainError) {
    super(domain.message);
  }
}

/** Keeps the first bytes of a stream for type sniffing while passing everything through. */
function headCapture(limit: number): { stream: Transform; head: () => Buffer } {
  const parts: Buffer[] = [];
  let have = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (have < limit) {
        const take = chunk.subarray(0, limit - have);
        parts.push(take);
        have += take.length;
      }
      cb(null, chunk);
    },
  });
  return { stream, head: () => Buffer.concat(parts) };
}

/**
 * Multipart upload (§4.2), streamed part by part straight into object storage: a file is never held
 * whole in memory. Limits are enforced while streaming. All-or-nothing: if any file of the request is
 * refused, nothing of the request is kept (RAGFlow kept the good files but answered with an error).
 */
@Injectable()
export class UploadService {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @InjectStorage() private readonly storage: ObjectStorage,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async upload(req: Request, tenantId: string, userId: string, datasetId: string): Promise<Document[]> {
    const dataset = await this.db.dataset.findFirst({ where: { id: datasetId, tenantId } });
    if (!dataset) throw new DomainError(RetCode.EXCEPTION_ERROR, `LookupError("Can't find the dataset with ID ${datasetId}!")`);
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.toLowerCase().startsWith('multipart/form-data')) throw argumentError('No file part!');

    const stored: StoredFile[] = [];
    try {
      await this.receive(req, datasetId, stored);
      if (stored.length === 0) throw new UploadRejected(argumentError('No file part!'));
      const unsupported = stored.filter((s) => !s.detected);
      if (unsupported.length) {
        throw new UploadRejected(
          new DomainError(RetCode.SERVER_ERROR, unsupported.map((s) => `${s.fileName}: This type of file has not been supported yet!`).join('\n')),
        );
      }
      return await this.insertRows(dataset, userId, stored);
    } catch (err) {
      await Promise.allSettled(stored.map((s) => this.storage.delete(s.key)));
      if (err instanceof UploadRejected) throw err.domain;
      throw err;
    }
  }

  private receive(req: Request, datasetId: string, stored: StoredFile[]): Promise<void> {
    const { maxFileBytes, maxFiles } = this.config.upload;
    return new Promise<void>((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({ headers: req.headers, limits: { files: maxFiles, fileSize: maxFileBytes, fieldSize: 64 * 1024 }, defParamCharset: 'utf8' });
      } catch {
        reject(new UploadRejected(argumentError('No file part!')));
        return;
      }
      let failed: unknown = null;
      let pending = Promise.resolve();
      const fail = (err: unknown) => {
        if (failed) return;
        failed = err;
        req.unpipe(bb);
        req.resume(); // drain what the client still sends so it gets our answer
        reject(err);
      };
      bb.on('file', (field: string, file: Readable, info: busboy.FileInfo) => {
        if (failed || field !== 'file') {
          file.resume();
          return;
        }
        // store files one after another, in the order they arrive
        pending = pending.then(() => this.storeOne(file, info.filename, datasetId, maxFileBytes).then((s) => void stored.push(s)));
        pending.catch(fail);
      });
      bb.on('filesLimit', () => fail(new UploadRejected(argumentError(`Too many files in one request: at most ${maxFiles} are accepted.`))));
      bb.on('error', (err: unknown) => fail(new UploadRejected(argumentError(`Malformed multipart body: ${err instanceof Error ? err.message : String(err)}`))));
      bb.on('close', () => {
        pending.then(() => (failed ? undefined : resolve()), fail);
      });
      req.on('aborted', () => fail(new UploadRejected(argumentError('Upload aborted by the client'))));
      req.pipe(bb);
    });
  }

  private async storeOne(file: Readable, rawName: string | undefined, datasetId: string, maxFileBytes: number): Promise<StoredFile> {
    const fileName = (rawName ?? '').trim();
    if (!fileName) {
      file.resume();
      throw new UploadRejected(argumentError('No file selected!'));
    }
    if (Buffer.byteLength(fileName, 'utf8') > 255) {
      file.resume();
      throw new UploadRejected(argumentError('File name must be 255 bytes or less.'));
    }
    const id = newId();
    // object keys are ours; the client's file name never touches a filesystem path
    const key = `${datasetId}/${id}`;
    const { stream: capture, head } = headCapture(HEAD_BYTES);
    const body = new PassThrough();
    let truncated = false;
    file.on('limit', () => {
      truncated = true;
      body.destroy(new ObjectTooLargeError(maxFileBytes));
    });
    file.pipe(capture).pipe(body);
    try {
      const info = await this.storage.put(key, body, { maxBytes: maxFileBytes });
      if (truncated) throw new ObjectTooLargeError(maxFileBytes);
      const detected = info.size === 0 ? emptyType(fileName) : detectFileType(head(), fileName);
      return { id, fileName, key, size: info.size, detected: detected as DetectedType };
    } catch (err) {
      file.resume();
      await this.storage.delete(key).catch(() => undefined);
      if (err instanceof ObjectTooLargeError || truncated) {
        throw new UploadRejected(argumentError(`${fileName}: file exceeds the upload limit of ${maxFileBytes} bytes.`));
      }
      throw err;
    }
  }

  private async insertRows(dataset: { id: string; tenantId: string; chunkMethod: string; parserConfig: unknown }, userId: string, files: StoredFile[]) {
    for (let attempt = 0; ; attempt++) {
      const taken = new Set(
        (await this.db.document.findMany({ where: { datasetId: dataset.id, OR: files.map((f) => ({ name: { startsWith: stemOf(f.fileName) } })) }, select: { name: true } })).map(
          (d) => d.name,
        ),
      );
      const rows = files.map((f) => {
        const name = dedupeName(f.fileName, taken);
        taken.add(name);
        const suffix = suffixOf(name);
        return {
          id: f.id,
          datasetId: dataset.id,
          tenantId: dataset.tenantId,
          name,
          location: f.key,
          size: BigInt(f.size),
          type: f.detected.docType,
          suffix,
          mimeType: f.detected.mime,
          chunkMethod: chunkMethodForFile(suffix, dataset.chunkMethod),
          parserConfig: dataset.parserConfig as Prisma.InputJsonValue,
          createdBy: userId,
        };
      });
      try {
        await this.db.document.createMany({ data: rows });
        return this.db.document.findMany({ where: { id: { in: rows.map((r) => r.id) } }, orderBy: { createdAt: 'asc' } }).then((docs) => {
          const order = new Map(rows.map((r, i) => [r.id, i]));
          return docs.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
        });
      } catch (err) {
        // a concurrent upload took one of the names: pick again
        if (attempt < 5 && isUniqueViolation(err)) continue;
        getLogger().error({ err: String(err) }, 'upload: inserting document rows failed');
        throw err;
      }
    }
  }
}

/** Empty files are accepted at upload (RAGFlow does) and fail at parse time with a clear message. */
function emptyType(fileName: string): DetectedType {
  const s = suffixOf(fileName);
  return { kind: 'txt', mime: s === 'pdf' ? 'application/pdf' : 'application/octet-stream', docType: s === 'pdf' ? 'pdf' : 'doc' };
}

/** `report.pdf` → `report`: every deduplicated variant (`report(3).pdf`) starts with it. */
function stemOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}
