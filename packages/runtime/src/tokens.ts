import { Inject } from '@nestjs/common';

export const CONFIG = Symbol('RAGNEST_CONFIG');
export const PRISMA = Symbol('PRISMA');
export const STORAGE = Symbol('STORAGE');

/** Injects the validated config. */
export const InjectConfig = () => Inject(CONFIG);
export const InjectDb = () => Inject(PRISMA);
export const InjectStorage = () => Inject(STORAGE);
