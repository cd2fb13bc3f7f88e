import mammoth from 'mammoth';
import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { errorMessage, readWhole } from './common.js';
import { htmlToSections } from './html.js';

/** DOCX via mammoth's semantic HTML (heading styles → h1..h6, tables kept) and the shared HTML walker. */
export async function* parseDocx(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const buffer = await readWhole(source, opts, 'DOCX');
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer },
      // Images are not indexed; an empty src keeps mammoth from base64-encoding every picture.
      { convertImage: mammoth.images.imgElement(async () => ({ src: '' })), externalFileAccess: false },
    );
    html = result.value;
  } catch (e) {
    throw new ParseError(`Corrupt DOCX: ${docxReason(errorMessage(e))}`);
  }
  opts.signal?.throwIfAborted();
  const sections = htmlToSections(html);
  if (!sections.length) throw new ParseError('DOCX has no text');
  opts.onProgress?.({ fraction: 1 });
  yield* sections;
}

// jszip/mammoth messages name library internals and URLs; users need to know what is wrong with their file.
function docxReason(message: string): string {
  if (/end of central directory|is this a zip/i.test(message)) return 'not a valid zip archive';
  if (/main document part/i.test(message)) return 'no main document part (word/document.xml)';
  return message;
}
