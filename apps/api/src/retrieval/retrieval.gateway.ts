import { Injectable } from '@nestjs/common';
import { RpcPatterns, type SearchRpcRequest, type SearchRpcResponse } from '@ragnest/contracts';
import { RedisListClient } from '@ragnest/runtime';

export const SEARCH_KIND = Symbol('SEARCH_KIND');

/** Adapter to the retrieval service: one replica answers each call (load-balanced RPC). */
@Injectable()
export class RetrievalGateway {
  constructor(private readonly rpc: RedisListClient) {}

  search(req: SearchRpcRequest): Promise<SearchRpcResponse> {
    return this.rpc.call(RpcPatterns.search, req);
  }

  async ping(): Promise<string> {
    return (await this.rpc.call(RpcPatterns.ping, {})).servedBy;
  }
}
