import type { Provider } from '@nestjs/common';
import type { AppConfig } from '@ragnest/config';
import { EmbeddingRegistry } from '@ragnest/embedding';
import { analyze } from '@ragnest/nlp';
import { CONFIG } from '@ragnest/runtime';

/** The configured embedding models; the built-in one tokenizes with RagNest's analyzer. */
export const embeddingRegistryProvider: Provider = {
  provide: EmbeddingRegistry,
  inject: [CONFIG],
  useFactory: (c: AppConfig) => new EmbeddingRegistry({ ...c.embedding, tokenize: analyze }),
};
