import { Inject } from '@nestjs/common';

export const CONFIG = Symbol('RAGNEST_CONFIG');
export const PRISMA = Symbol('PRISMA');
export const STORAGE = Symbol('STORAGE');
export const HOT_READS = Symbol('HOT_READS');

/** Injects the validated config. */
export const InjectConfig = () => Inject(CONFIG);
export const InjectDb = () => Inject(PRISMA);
export const InjectStorage = () => Inject(STORAGE);
/** Prepared-statement reads for per-request hot paths (see HotReads in @ragnest/db). */
export const InjectHotReads = () => Inject(HOT_READS);
