import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '@ragnest/config';
import { withCorrelation } from '@ragnest/logger';
import { httpDuration } from '@ragnest/runtime';
import { RagflowExceptionFilter } from './ragflow/exception.filter.js';

/** Correlation id per request (honouring X-Request-Id), latency metrics, RAGFlow error rendering. */
export function configureHttp(app: INestApplication, _config: AppConfig): void {
  const express = app.getHttpAdapter().getInstance() as { set(k: string, v: unknown): void; disable(k: string): void };
  express.disable('x-powered-by');
  // Express hashes every response body for a weak ETag (SHA-1 over e.g. a retrieval's ~80 KB of JSON): an API
  // of POSTed queries and fresh state gains nothing from it, and RAGFlow sends none
  express.disable('etag');
  // "strict_slashes = False" in RAGFlow: /api/v1/datasets/ == /api/v1/datasets
  express.set('strict routing', false);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const id = (req.headers['x-request-id'] as string | undefined)?.slice(0, 100) || randomUUID();
    res.setHeader('X-Request-Id', id);
    const started = performance.now();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      httpDuration.observe({ method: req.method, route: String(route), status: String(res.statusCode) }, (performance.now() - started) / 1000);
    });
    withCorrelation(id, () => next());
  });
  app.useGlobalFilters(new RagflowExceptionFilter());
  app.enableCors({ exposedHeaders: ['Authorization', 'Content-Disposition'] });
}
