import { Inject, Injectable } from '@nestjs/common';
import type { SearchIndex } from '@ragnest/search';
import { SEARCH_INDEX } from '../search-index.provider.js';

/** Tables/indices exist per vector dimension; each is created once per process. */
@Injectable()
export class IndexDimensions {
  private readonly ready = new Map<number, Promise<void>>();

  constructor(@Inject(SEARCH_INDEX) private readonly index: SearchIndex) {}

  ensure(dimension: number): Promise<void> {
    let p = this.ready.get(dimension);
    if (!p) {
      p = this.index.ensureReady(dimension).catch((err: unknown) => {
        this.ready.delete(dimension);
        throw err;
      });
      this.ready.set(dimension, p);
    }
    return p;
  }
}
