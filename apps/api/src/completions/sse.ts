import type { Request, Response } from 'express';

/**
 * A server-sent-event response with backpressure: `write` waits while the client's socket buffer is full,
 * so a slow reader pauses its own model stream instead of growing memory, and never slows the others.
 * `signal` aborts when the client goes away before the response ended.
 */
export class SseResponse {
  private readonly ctl = new AbortController();
  private ended = false;

  constructor(
    req: Request,
    private readonly res: Response,
  ) {
    const gone = () => {
      if (!this.ended) this.ctl.abort(new Error('client disconnected'));
    };
    res.on('close', gone);
    req.on('aborted', gone);
  }

  get signal(): AbortSignal {
    return this.ctl.signal;
  }

  open(extraHeaders: Record<string, string> = {}): void {
    this.res.status(200);
    this.res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.res.setHeader('Cache-Control', 'no-cache');
    this.res.setHeader('Connection', 'keep-alive');
    this.res.setHeader('X-Accel-Buffering', 'no');
    for (const [k, v] of Object.entries(extraHeaders)) this.res.setHeader(k, v);
    this.res.flushHeaders();
    this.res.socket?.setNoDelay(true);
  }

  /** Writes raw SSE text; resolves once the socket can take more (or the client is gone). */
  async write(text: string): Promise<void> {
    if (this.ctl.signal.aborted || this.res.destroyed) return;
    if (this.res.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  end(): void {
    this.ended = true;
    if (!this.res.destroyed) this.res.end();
  }
}
