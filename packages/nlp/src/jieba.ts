import { Jieba } from '@node-rs/jieba';
import { dict, idf } from '@node-rs/jieba/dict.js';

// Loading the dictionary takes ~200 ms, so the segmenter is created on first use and shared.
let jieba: Jieba | undefined;
export function getJieba(): Jieba {
  jieba ??= Jieba.withDict(dict);
  return jieba;
}

export interface IdfTable {
  get(word: string): number | undefined;
  /** jieba's own fallback for words missing from the table */
  readonly median: number;
}

// The idf table (270k words, ~20 MB as a Map) is only needed to weight queries, so it is loaded lazily.
// TfIdf has no per-word lookup, hence reading the same idf.txt it embeds.
let idfTable: IdfTable | undefined;
export function getIdfTable(): IdfTable {
  if (idfTable) return idfTable;
  const map = new Map<string, number>();
  const values: number[] = [];
  for (const line of Buffer.from(idf).toString('utf8').split('\n')) {
    const sp = line.lastIndexOf(' ');
    if (sp <= 0) continue;
    const v = Number(line.slice(sp + 1));
    if (!Number.isFinite(v)) continue;
    map.set(line.slice(0, sp), v);
    values.push(v);
  }
  values.sort((a, b) => a - b);
  idfTable = { get: (w) => map.get(w), median: values[values.length >> 1] ?? 10 };
  return idfTable;
}
