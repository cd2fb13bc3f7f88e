export * from './port.js';
export { InvalidObjectKeyError } from './keys.js';
export { LocalObjectStorage, type LocalObjectStorageOptions } from './local.js';
export { MinioObjectStorage, type MinioObjectStorageOptions, type MinioClientLike } from './minio.js';
export {
  createObjectStorage,
  parseS3Endpoint,
  type InitializableObjectStorage,
  type ObjectStorageConfig,
  type S3Config,
} from './factory.js';
export { chunkImageKey, documentImagesPrefix, generationImagesPrefix } from './object-keys.js';
