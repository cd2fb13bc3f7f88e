import { ParseError } from '../types.js';

/** OLE2 / Compound File Binary signature: legacy Office files and password-protected (encrypted) OOXML files. */
export const OLE2_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

export function isOle2(buf: Buffer): boolean {
  return buf.length >= 8 && buf.subarray(0, 8).equals(OLE2_MAGIC);
}

export function isZip(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && (buf[2] === 3 || buf[2] === 5 || buf[2] === 7);
}

const utf16 = (s: string) => Buffer.from(s, 'utf16le');

/** Names of the streams in a compound file that tell what it holds (directory entries are UTF-16LE). */
export function oleContents(buf: Buffer): 'encrypted' | 'xls' | 'doc' | 'ppt' | 'unknown' {
  if (buf.includes(utf16('EncryptedPackage')) || buf.includes(utf16('EncryptionInfo'))) return 'encrypted';
  if (buf.includes(utf16('Workbook')) || buf.includes(utf16('Book\0'))) return 'xls';
  if (buf.includes(utf16('WordDocument'))) return 'doc';
  if (buf.includes(utf16('PowerPoint Document'))) return 'ppt';
  return 'unknown';
}

/**
 * An Office Open XML parser was handed a compound file: either the OOXML package is encrypted (Office wraps
 * password-protected .docx/.xlsx/.pptx in OLE2) or it is the legacy binary format under a new name.
 */
export function ooxmlInOle(buf: Buffer, what: string): ParseError {
  const inside = oleContents(buf);
  if (inside === 'encrypted') return new ParseError(`${what} is password-protected (encrypted); remove the password and upload it again`);
  const legacy = inside === 'doc' ? 'Word 97-2003 (.doc)' : inside === 'ppt' ? 'PowerPoint 97-2003 (.ppt)' : inside === 'xls' ? 'Excel 97-2003 (.xls)' : 'legacy Office';
  return new ParseError(`${what} is actually a ${legacy} file, which is not supported; save it as ${what} and upload it again`);
}
