import { once } from 'node:events';
import type { Response } from 'express';

/** An SSE response that respects backpressure: a slow client waits on its own socket, not on everyone's memory. */
export class SseWriter {
  constructor(private readonly res: Response) {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
  }

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  async send(frames: string[]): Promise<void> {
    for (const f of frames) {
      if (this.closed) return;
      if (!this.res.write(f)) await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
    }
  }

  end(): void {
    if (!this.closed) this.res.end();
  }
}
