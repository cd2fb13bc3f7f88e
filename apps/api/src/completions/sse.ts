import type { Request, Response } from 'express';

/**
 * Shortest time between two offered (superseding) events of one response: 50 updates a second, faster
 * than a screen needs and than most models send tokens, so only a faster model has pieces merged. Each
 * cumulative event repeats the whole answer, so merging saves the client as much as the server.
 */
export const OFFER_INTERVAL_MS = 20;

/**
 * A server-sent-event response with backpressure: `write` waits while the client's socket buffer is full,
 * so a slow reader pauses its own producer instead of growing memory, and never slows the others.
 * `offer` is for events a later one supersedes (cumulative answers): they go out at most every
 * OFFER_INTERVAL_MS, and while the socket is busy only the newest is kept and sent once it drains. A model
 * faster than that rate (or a slow client) costs neither a write per piece nor memory beyond one answer;
 * the first offered event and every `write` go out at once, so neither the first byte nor the end waits.
 * `signal` aborts when the client goes away before the response ended.
 */
export class SseResponse {
  private readonly ctl = new AbortController();
  private ended = false;
  /** the socket's buffer is full: waiting for 'drain' */
  private busy = false;
  /** the newest offered event, not yet written */
  private pending: (() => string) | null = null;
  /** when the last offered event was written (performance.now()) */
  private offeredAt = -Infinity;
  private offerTimer: NodeJS.Timeout | undefined;

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

  /** Sets the SSE headers; they leave with the first event (one write, not two). */
  open(extraHeaders: Record<string, string> = {}): void {
    this.res.status(200);
    this.res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.res.setHeader('Cache-Control', 'no-cache');
    this.res.setHeader('Connection', 'keep-alive');
    this.res.setHeader('X-Accel-Buffering', 'no');
    for (const [k, v] of Object.entries(extraHeaders)) this.res.setHeader(k, v);
    this.res.socket?.setNoDelay(true);
  }

  private get gone(): boolean {
    return this.ctl.signal.aborted || this.res.destroyed;
  }

  /** Writes raw SSE text after any pending offered event; resolves once the socket can take more (or the client is gone). */
  async write(text: string): Promise<void> {
    while (this.busy && !this.gone) await this.drained();
    if (this.gone) return;
    clearTimeout(this.offerTimer);
    this.offerTimer = undefined;
    const first = this.pending;
    this.pending = null;
    if (first) this.res.write(first());
    if (this.res.write(text)) return;
    this.busy = true;
    await this.drained();
  }

  /**
   * An event the next one supersedes: written now when the socket is free and the last one left at least
   * OFFER_INTERVAL_MS ago, else kept (replacing any earlier one) until then, or until 'drain', or until the
   * next `write`. `render` is called only for the event that is written.
   */
  offer(render: () => string): void {
    if (this.gone) return;
    this.pending = render;
    // busy: sent on drain; timer set: sent when it fires
    if (this.busy || this.offerTimer) return;
    const wait = this.offeredAt + OFFER_INTERVAL_MS - performance.now();
    if (wait <= 0) {
      this.sendPending();
      return;
    }
    this.offerTimer = setTimeout(() => {
      this.offerTimer = undefined;
      if (!this.busy) this.sendPending();
    }, wait);
  }

  private sendPending(): void {
    const next = this.pending;
    this.pending = null;
    if (!next || this.gone) return;
    this.offeredAt = performance.now();
    if (!this.res.write(next())) {
      this.busy = true;
      void this.drained();
    }
  }

  private drainWait: Promise<void> | null = null;

  /** Resolves on the next 'drain' (then sends the pending offered event) or when the client is gone. */
  private drained(): Promise<void> {
    this.drainWait ??= new Promise<void>((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        this.drainWait = null;
        this.busy = false;
        if (!this.offerTimer) this.sendPending();
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
    return this.drainWait;
  }

  /** Ends the response; `text` (the last events) leaves with any pending offered event and the end, in one write. */
  end(text = ''): void {
    clearTimeout(this.offerTimer);
    this.offerTimer = undefined;
    this.ended = true;
    const pending = this.pending;
    this.pending = null;
    if (this.res.destroyed) return;
    if (this.gone) this.res.end();
    else this.res.end(pending ? pending() + text : text);
  }
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/**
 * A growing text and its JSON string form (without the quotes), escaped a piece at a time: a cumulative
 * event costs one copy of the answer, not a serialisation of it.
 */
export class JsonText {
  text = '';
  json = '';

  append(piece: string): void {
    if (!piece) return;
    this.text += piece;
    // a surrogate pair split between pieces: escape the whole text again so the output stays what
    // JSON.stringify gives for the whole answer
    this.json = isLowSurrogate(piece.charCodeAt(0)) ? JSON.stringify(this.text).slice(1, -1) : this.json + JSON.stringify(piece).slice(1, -1);
  }
}
