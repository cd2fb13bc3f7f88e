import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import type { RunResult } from '@ragnest/agent';
import { AgentRunService, isAbort, publicError, streamErrorMessage, type Turn } from './agent-run.service.js';
import type { AgentWire } from './agent-wire.js';
import { SseWriter } from './sse.js';

/** Sends one agent turn in a wire dialect, streamed or as one body; the client going away aborts the run. */
@Injectable()
export class AgentResponder {
  constructor(private readonly runs: AgentRunService) {}

  async send(turn: Turn, wire: AgentWire, stream: boolean, res: Response): Promise<void> {
    const ac = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) ac.abort();
    };
    res.on('close', onClose);
    try {
      if (stream) await this.stream(turn, wire, res, ac.signal);
      else await this.whole(turn, wire, res, ac.signal);
    } finally {
      res.off('close', onClose);
    }
  }

  private async whole(turn: Turn, wire: AgentWire, res: Response, signal: AbortSignal): Promise<void> {
    let result: RunResult;
    try {
      const gen = this.runs.run(turn, signal);
      let soFar = '';
      for (;;) {
        const r = await gen.next();
        if (r.done) {
          result = r.value;
          break;
        }
        // the frames are not sent, but a wire may collect from events (the v0.24 trace)
        if (r.value.type === 'message') soFar += r.value.text;
        wire.event(r.value, soFar);
      }
    } catch (e) {
      if (signal.aborted && isAbort(e)) return; // nobody is listening
      throw publicError(e) ?? e;
    }
    res.status(200).json(wire.body(result));
  }

  private async stream(turn: Turn, wire: AgentWire, res: Response, signal: AbortSignal): Promise<void> {
    const sse = new SseWriter(res);
    let soFar = '';
    try {
      const gen = this.runs.run(turn, signal);
      for (;;) {
        const r = await gen.next();
        if (r.done) {
          await sse.send(wire.end(r.value));
          break;
        }
        if (r.value.type === 'message') soFar += r.value.text;
        await sse.send(wire.event(r.value, soFar));
        if (sse.closed) {
          await gen.return(undefined as never);
          return;
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      await sse.send(wire.error(streamErrorMessage(e)));
    }
    sse.end();
  }
}
