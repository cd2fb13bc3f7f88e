import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { DomainError, RpcPatterns, indexChunksNowSchema, type IndexChunksNowResponse, type SearchRpcResponse } from '@ragnest/contracts';
import type { SearchIndex } from '@ragnest/search';
import { SearchService } from '../search/search.service.js';
import { IndexWriter } from '../index/index-writer.service.js';
import { SEARCH_INDEX } from '../search-index.provider.js';
import { REPLICA_ID } from '../replica.js';

/** Domain errors travel back to the caller with their code; anything else becomes a plain failure. */
async function rpc<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DomainError) throw new RpcException({ code: err.code, message: err.message });
    throw new RpcException({ message: err instanceof Error ? err.message : String(err) });
  }
}

@Controller()
export class RetrievalRpcController {
  constructor(
    private readonly search: SearchService,
    private readonly writer: IndexWriter,
    @Inject(SEARCH_INDEX) private readonly index: SearchIndex,
    @Inject(REPLICA_ID) private readonly replicaId: string,
  ) {}

  @MessagePattern(RpcPatterns.search)
  handleSearch(@Payload() data: unknown): Promise<SearchRpcResponse> {
    return rpc(() => this.search.search(data, this.replicaId));
  }

  @MessagePattern(RpcPatterns.indexChunksNow)
  handleIndexNow(@Payload() data: unknown): Promise<IndexChunksNowResponse> {
    return rpc(async () => {
      const req = indexChunksNowSchema.parse(data);
      return { indexed: await this.writer.write(req.chunkIds) };
    });
  }

  /** Answers only when the search engine does: the API's /health uses it. */
  @MessagePattern(RpcPatterns.ping)
  handlePing(): Promise<{ servedBy: string }> {
    return rpc(async () => {
      await this.index.health();
      return { servedBy: this.replicaId };
    });
  }
}
