import { Injectable } from '@nestjs/common';
import { JobNames, type JobPayload } from '@ragnest/contracts';
import { JobHandler, type JobContext } from '@ragnest/runtime';
import { ParseTaskService } from './parse-task.service.js';

@Injectable()
export class ParseTaskHandler {
  constructor(private readonly service: ParseTaskService) {}

  @JobHandler(JobNames.parseTask)
  handle(payload: JobPayload<typeof JobNames.parseTask>, ctx: JobContext) {
    return this.service.run(payload, ctx);
  }
}
