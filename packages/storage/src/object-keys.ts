/**
 * Object keys RagNest writes besides uploaded files (`<datasetId>/<documentId>`). Chunk pictures live per
 * document and parse generation, so deleting a document removes its pictures with one prefix, and a parse
 * that was superseded can remove exactly what it wrote without touching the newer parse's pictures.
 */
export function chunkImageKey(datasetId: string, documentId: string, generation: number, chunkId: string): string {
  return `${datasetId}/images/${documentId}/${generation}/${chunkId}`;
}

export function documentImagesPrefix(datasetId: string, documentId: string): string {
  return `${datasetId}/images/${documentId}/`;
}

export function generationImagesPrefix(datasetId: string, documentId: string, generation: number): string {
  return `${datasetId}/images/${documentId}/${generation}/`;
}
