export * from './types.js';
export { analyze, analyzeToString } from './analyzer.js';
export { buildQuery, termSimilarity, weighTokens, type QueryTerms, type TermDictionary, type TermIdSequence, type WeighedTokens } from './query.js';
export { countTokens } from './tokens.js';
export { detectFileType, fileExtension, SUPPORTED_SUFFIXES, DETECT_HEAD_BYTES, DOCX_MIME, XLSX_MIME, PPTX_MIME } from './detect.js';
export {
  detectEncoding,
  decodeBuffer,
  decodeTextStream,
  isUtf8,
  ENCODING_SAMPLE_BYTES,
  type DecodeStreamOptions,
} from './encoding.js';
export { parseDocument } from './parsers/index.js';
export { pdfLayout, type PdfLayout } from './parsers/pdf.js';
export { markdownToSections } from './parsers/markdown.js';
export { htmlToSections } from './parsers/html.js';
export { splitJson } from './parsers/json.js';
export { NaiveChunker, chunkSections, parseDelimiter } from './chunker.js';
export {
  CHUNK_METHOD_IMPLEMENTATIONS,
  chunkDocument,
  chunkMethodOptions,
  llmFeatureNotice,
  llmFeatureRefusal,
  pageRanges,
  taskPageSize,
  inferColumnType,
  fieldName,
  type ChunkContext,
  type ChunkMethod,
  type ChunkMethodOptions,
} from './chunkers/index.js';
export { TesseractOcr, type TesseractOcrOptions, type OcrLanguage } from './ocr/tesseract.js';
