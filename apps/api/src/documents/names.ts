/** RAGFlow auto-renames duplicate file names in a dataset: `a.txt` → `a(1).txt`. */
export function dedupeName(name: string, taken: Set<string>): string {
  if (!taken.has(name)) return name;
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let i = 1; ; i++) {
    const candidate = `${stem}(${i})${ext}`;
    if (!taken.has(candidate)) return candidate;
  }
}

export function suffixOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** Chunk method chosen per file at upload, as RAGFlow does; otherwise the dataset's. */
export function chunkMethodForFile(suffix: string, datasetMethod: string): string {
  if (['jpg', 'jpeg', 'png', 'gif', 'webp', 'bmp', 'tiff', 'tif'].includes(suffix)) return 'picture';
  if (['ppt', 'pptx', 'pages'].includes(suffix)) return 'presentation';
  if (['eml', 'msg'].includes(suffix)) return 'email';
  return datasetMethod;
}
