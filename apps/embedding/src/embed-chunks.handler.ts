import { Injectable } from '@nestjs/common';
import { JobNames, type JobPayload } from '@ragnest/contracts';
import { JobHandler, type JobContext } from '@ragnest/runtime';
import { EmbedChunksService } from './embed-chunks.service.js';

@Injectable()
export class EmbedChunksHandler {
  constructor(private readonly service: EmbedChunksService) {}

  @JobHandler(JobNames.embedChunks)
  handle(payload: JobPayload<typeof JobNames.embedChunks>, ctx: JobContext) {
    return this.service.run(payload, ctx);
  }
}
