import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '@ragnest/contracts';

export const MAX_JSON_BODY = 10 * 1024 * 1024;

export interface ParsedBody {
  /** Content-Type without parameters, lower-case ('' when absent) */
  contentType: string;
  /** true when the body had bytes */
  present: boolean;
  /** parsed value (JSON or urlencoded form); undefined when absent or unparsable */
  value: unknown;
  /** JSON that did not parse */
  malformed: boolean;
}

declare module 'express-serve-static-core' {
  interface Request {
    parsedBody?: ParsedBody;
  }
}

/**
 * Reads non-multipart bodies once, without failing: routes decide how strict to be (RAGFlow's pydantic
 * routes reject what its lenient routes accept). Multipart bodies are left for the streaming upload handler.
 */
@Injectable()
export class BodyMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType.startsWith('multipart/') || req.method === 'GET' || req.method === 'HEAD') {
      req.parsedBody = { contentType, present: false, value: undefined, malformed: false };
      next();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_JSON_BODY) {
        tooLarge = true;
        return;
      }
      chunks.push(c);
    });
    req.on('error', next);
    req.on('end', () => {
      if (tooLarge) {
        next(new DomainError(413, `Request body exceeds ${MAX_JSON_BODY} bytes`, undefined, 413));
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const parsed: ParsedBody = { contentType, present: raw.trim().length > 0, value: undefined, malformed: false };
      if (parsed.present) {
        if (contentType === 'application/x-www-form-urlencoded') {
          parsed.value = Object.fromEntries(new URLSearchParams(raw));
        } else {
          try {
            parsed.value = JSON.parse(raw);
          } catch {
            parsed.malformed = true;
          }
        }
      }
      req.parsedBody = parsed;
      next();
    });
  }
}
