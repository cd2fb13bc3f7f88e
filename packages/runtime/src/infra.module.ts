import { Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { HotReads, createPrisma, type PrismaClient } from '@ragnest/db';
import { createObjectStorage, type ObjectStorage } from '@ragnest/storage';
import { CONFIG, HOT_READS, PRISMA, STORAGE, InjectDb, InjectHotReads, InjectStorage } from './tokens.js';
import type { AppConfig } from '@ragnest/config';
import { DocumentFailureHandler } from './document-failure.js';


@Injectable()
class InfraShutdown implements OnApplicationShutdown {
  constructor(
    @InjectDb() private readonly db: PrismaClient,
    @InjectStorage() private readonly storage: ObjectStorage,
    @InjectHotReads() private readonly hot: HotReads,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.db.$disconnect(), this.storage.close(), this.hot.close()]);
  }
}

/** The Postgres (Prisma) and object-storage adapters every app uses. */
@Global()
@Module({
  providers: [
    { provide: PRISMA, inject: [CONFIG], useFactory: (c: AppConfig) => createPrisma(c.databaseUrl, { poolSize: 20 }) },
    // connects lazily: apps without hot-path reads open no connection
    { provide: HOT_READS, inject: [CONFIG], useFactory: (c: AppConfig) => new HotReads(c.databaseUrl, 4) },
    {
      provide: STORAGE,
      inject: [CONFIG],
      useFactory: async (c: AppConfig) => {
        const s = createObjectStorage({ dataDir: c.dataDir, ...(c.s3 ? { s3: c.s3 } : {}) });
        const init = (s as { init?: () => Promise<void> }).init;
        if (init) await init.call(s).catch(() => undefined); // reported by /health instead of crashing boot
        return s;
      },
    },
    InfraShutdown,
    DocumentFailureHandler,
  ],
  exports: [PRISMA, STORAGE, HOT_READS, DocumentFailureHandler],
})
export class InfraModule {}
