import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { argumentError, DomainError, RetCode } from '@ragnest/contracts';
import type { ParsedBody } from './body.middleware.js';

function parsedOf(ctx: ExecutionContext): ParsedBody {
  const req = ctx.switchToHttp().getRequest<Request>();
  return req.parsedBody ?? { contentType: '', present: false, value: undefined, malformed: false };
}

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * Strict JSON body of RAGFlow's pydantic-validated routes (§1.7): JSON content type required,
 * malformed JSON and non-objects refused with RAGFlow's messages.
 */
export function strictJson(p: ParsedBody, { allowEmpty = false } = {}): Record<string, unknown> {
  if (p.contentType !== 'application/json') {
    throw argumentError(`Unsupported content type: Expected application/json, got ${p.contentType || 'None'}`);
  }
  if (!p.present) {
    if (allowEmpty) return {};
    throw argumentError('Malformed JSON syntax: Missing commas/brackets or invalid encoding');
  }
  if (p.malformed) throw argumentError('Malformed JSON syntax: Missing commas/brackets or invalid encoding');
  if (typeof p.value !== 'object' || p.value === null || Array.isArray(p.value)) {
    throw argumentError(`Invalid request payload: expected object, got ${typeName(p.value)}`);
  }
  return p.value as Record<string, unknown>;
}

/**
 * Lenient body of RAGFlow's other routes: absent → {}, form bodies accepted. A body that is not an
 * object is refused with a clear message (RAGFlow crashed with an AttributeError here).
 */
export function lenientJson(p: ParsedBody): Record<string, unknown> {
  if (!p.present) return {};
  if (p.malformed) throw new DomainError(RetCode.ARGUMENT_ERROR, 'Malformed JSON syntax: Missing commas/brackets or invalid encoding');
  if (typeof p.value !== 'object' || p.value === null || Array.isArray(p.value)) {
    throw new DomainError(RetCode.ARGUMENT_ERROR, `Invalid request payload: expected object, got ${typeName(p.value)}`);
  }
  return p.value as Record<string, unknown>;
}

export const StrictBody = createParamDecorator((opts: { allowEmpty?: boolean } | undefined, ctx: ExecutionContext) =>
  strictJson(parsedOf(ctx), opts),
);
export const Body = createParamDecorator((_: unknown, ctx: ExecutionContext) => lenientJson(parsedOf(ctx)));
