import { DOMParser } from 'linkedom';
import { posix } from 'node:path';
import { ParseError } from '../types.js';
import type { OfficeZip } from './zip.js';

export type XmlElement = ReturnType<DOMParser['parseFromString']>['documentElement'];

export async function readXml(zip: OfficeZip, name: string, what: string): Promise<XmlElement | undefined> {
  const text = await zip.readText(name);
  if (text === undefined) return undefined;
  const root = new DOMParser().parseFromString(text, 'text/xml').documentElement;
  if (!root) throw new ParseError(`Corrupt ${what}: ${name} is not XML`);
  return root;
}

/** Element children with the given qualified tag name (namespace prefixes as Office writes them, e.g. "a:t"). */
export function kids(el: XmlElement, tag: string): XmlElement[] {
  return [...el.children].filter((c) => c.tagName === tag) as XmlElement[];
}

export function all(el: XmlElement, tag: string): XmlElement[] {
  return [...el.getElementsByTagName(tag)] as XmlElement[];
}

/** Relationship id → target part path (resolved against the part that owns the .rels file). */
export async function readRels(zip: OfficeZip, part: string, what: string): Promise<Map<string, { target: string; type: string }>> {
  const dir = posix.dirname(part);
  const relsName = posix.join(dir, '_rels', `${posix.basename(part)}.rels`);
  const root = await readXml(zip, relsName, what);
  const out = new Map<string, { target: string; type: string }>();
  if (!root) return out;
  for (const r of all(root, 'Relationship')) {
    const id = r.getAttribute('Id');
    const target = r.getAttribute('Target');
    if (!id || !target || r.getAttribute('TargetMode') === 'External') continue;
    const resolved = target.startsWith('/') ? target.slice(1) : posix.normalize(posix.join(dir, target));
    out.set(id, { target: resolved, type: r.getAttribute('Type') ?? '' });
  }
  return out;
}
