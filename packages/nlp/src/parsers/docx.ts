import mammoth from 'mammoth';
import type { ParseOptions, ParseSource, Section } from '../types.js';
import { ParseError } from '../types.js';
import { errorMessage, readWhole } from './common.js';
import { htmlToSections, IMAGE_REF_PREFIX } from './html.js';
import { embeddedImage } from './images.js';
import { isOle2, isZip, ooxmlInOle } from './ole.js';
import { OfficeZip } from './zip.js';

/**
 * DOCX via mammoth's semantic HTML (heading styles → h1..h6, lists, tables kept) and the shared HTML walker.
 * Pictures come out in document order as image sections (with OCR text) where they stand in the text.
 */
export async function* parseDocx(source: ParseSource, opts: ParseOptions): AsyncGenerator<Section> {
  const buffer = await readWhole(source, opts, 'DOCX');
  if (isOle2(buffer)) throw ooxmlInOle(buffer, 'DOCX');
  if (!isZip(buffer)) throw new ParseError('Corrupt DOCX: not a valid zip archive');
  const zip = await OfficeZip.open(buffer, 'DOCX');
  try {
    if (!zip.has('word/document.xml')) throw new ParseError('Corrupt DOCX: no main document part (word/document.xml)');
    // mammoth (jszip) trusts the sizes the archive declares; prove them first.
    await zip.verifyAll(opts.signal);
  } finally {
    zip.close();
  }
  const pictures: Buffer[] = [];
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer },
      {
        convertImage: mammoth.images.imgElement(async (image) => {
          const data = await image.readAsBuffer();
          return { src: `${IMAGE_REF_PREFIX}${pictures.push(data) - 1}` };
        }),
        externalFileAccess: false,
      },
    );
    html = result.value;
  } catch (e) {
    throw new ParseError(`Corrupt DOCX: ${docxReason(errorMessage(e))}`);
  }
  opts.signal?.throwIfAborted();
  const sections = htmlToSections(html);
  let produced = 0;
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i]!;
    const ref = s.kind === 'image' ? s.meta?.imageRef : undefined;
    if (ref !== undefined) {
      opts.signal?.throwIfAborted();
      const data = pictures[Number(ref)];
      const img = data ? await embeddedImage(data, opts) : null;
      if (!img) continue;
      produced++;
      yield { kind: 'image', text: [s.text, img.text].filter(Boolean).join('\n'), image: img.image };
    } else {
      produced++;
      yield s;
    }
    opts.onProgress?.({ fraction: (i + 1) / sections.length });
  }
  if (!produced) throw new ParseError('DOCX has no text');
}

// jszip/mammoth messages name library internals and URLs; users need to know what is wrong with their file.
function docxReason(message: string): string {
  if (/end of central directory|is this a zip/i.test(message)) return 'not a valid zip archive';
  if (/main document part/i.test(message)) return 'no main document part (word/document.xml)';
  return message;
}
