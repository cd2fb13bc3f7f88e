import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import { TesseractOcr } from '@ragnest/nlp';
import { InjectConfig } from '@ragnest/runtime';

/**
 * The worker's one OCR engine, shared by every parse job it runs: at most OCR_CONCURRENCY recognitions at once
 * (each slot is a wasm worker created on first use), so OCR-heavy files queue for OCR slots instead of
 * taking the CPU from the other parse jobs.
 */
@Injectable()
export class OcrEngine implements OnApplicationShutdown {
  readonly engine: TesseractOcr;

  constructor(@InjectConfig() config: AppConfig) {
    this.engine = new TesseractOcr({ concurrency: config.parse.ocrConcurrency });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.engine.close();
  }
}
