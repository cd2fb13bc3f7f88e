import { Controller, Get, Param, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { ApiKeyGuard, SessionGuard } from '../auth/guards.js';
import { Auth, type AuthContext } from '../auth/tenant.decorator.js';
import { ImagesService } from './images.service.js';

function send(res: Response, image: { data: Buffer; contentType: string }): void {
  res.status(200);
  res.setHeader('Content-Type', image.contentType);
  res.setHeader('Content-Length', String(image.data.length));
  res.setHeader('Cache-Control', 'private, max-age=3600');
  res.end(image.data);
}

/**
 * Classic web route (§12). RAGFlow served it without authentication; RagNest asks for the API key or login
 * token of the tenant that owns the picture (seed scripts already send their key), so one tenant's pictures
 * are never readable by another. See docs/ragflow.md.
 */
@Controller('v1/document/image')
@UseGuards(SessionGuard)
export class ClassicImagesController {
  constructor(private readonly images: ImagesService) {}

  @Get(':imageId')
  async get(@Auth() auth: AuthContext, @Param('imageId') imageId: string, @Res() res: Response): Promise<void> {
    send(res, await this.images.read(auth.tenantId, imageId));
  }
}

/** Current route (RAGFlow v0.25+): API key or login token. */
@Controller('api/v1/documents/images')
@UseGuards(ApiKeyGuard)
export class ImagesController {
  constructor(private readonly images: ImagesService) {}

  @Get(':imageId')
  async get(@Auth() auth: AuthContext, @Param('imageId') imageId: string, @Res() res: Response): Promise<void> {
    send(res, await this.images.read(auth.tenantId, imageId));
  }
}
