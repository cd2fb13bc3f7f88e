import { Injectable } from '@nestjs/common';
import { failDocument, type PrismaClient } from '@ragnest/db';
import type { JobName } from '@ragnest/contracts';
import { InjectDb } from './tokens.js';

/**
 * When a job has failed for good (retries exhausted, or a permanent error), its document must not stay
 * RUNNING forever: it ends FAIL with the reason users see in progress_msg.
 */
@Injectable()
export class DocumentFailureHandler {
  constructor(@InjectDb() private readonly db: PrismaClient) {}

  async handle(_name: JobName, payload: unknown, err: Error): Promise<void> {
    const p = payload as { documentId?: string; generation?: number };
    if (!p.documentId || p.generation === undefined) return;
    await failDocument(this.db, p.documentId, p.generation, err.message);
  }
}
