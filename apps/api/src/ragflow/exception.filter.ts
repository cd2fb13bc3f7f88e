import { randomUUID } from 'node:crypto';
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, RetCode } from '@ragnest/contracts';
import { getLogger } from '@ragnest/logger';

/**
 * Renders every error in RAGFlow's envelope `{code, message}` (+ `data` when the error carries one).
 * RAGFlow answers HTTP 200 for almost everything; unknown routes get its 404 body; anything unexpected
 * becomes code 100 with an error id that is also in the log, never a stack trace.
 */
@Catch()
export class RagflowExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    if (res.headersSent) {
      // a streamed download failed midway: the only honest thing left is to cut the connection
      res.destroy();
      return;
    }
    if (exception instanceof DomainError) {
      const body: Record<string, unknown> = { code: exception.code, message: exception.message };
      if (exception.data !== undefined) body.data = exception.data;
      res.status(exception.httpStatus).json(body);
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) {
        res.status(404).json({ code: 404, message: `Not Found: ${req.path}`, data: null, error: 'Not Found' });
        return;
      }
      if (status === 405) {
        res.status(405).json({ code: 405, message: `Method Not Allowed: ${req.method} ${req.path}`, data: null, error: 'Method Not Allowed' });
        return;
      }
      if (status === 413) {
        res.status(413).json({ code: 413, message: 'Request entity too large', data: null });
        return;
      }
      if (status < 500) {
        res.status(200).json({ code: RetCode.ARGUMENT_ERROR, message: exception.message });
        return;
      }
    }
    const errorId = randomUUID();
    getLogger().error(
      { errorId, path: req.path, err: exception instanceof Error ? { message: exception.message, stack: exception.stack } : String(exception) },
      'unhandled error',
    );
    res.status(200).json({ code: RetCode.EXCEPTION_ERROR, message: `Internal server error (error id ${errorId})`, data: null });
  }
}
