import sharp from 'sharp';
import { imageIdFor, parseImageId } from '@ragnest/db';
import { imageMime } from '../../src/images/image-type.js';

describe('image ids', () => {
  const ds = '0f6c2a4e8a0a11f085c722bcecfb00ba';
  it('round-trips "<dataset_id>-<chunk_id>" and rejects anything else', () => {
    expect(parseImageId(imageIdFor(ds, '00ab12cd34ef5678'))).toEqual({ datasetId: ds, chunkId: '00ab12cd34ef5678' });
    for (const bad of ['', 'nohyphen', `${ds}-`, `${ds}-../../etc/passwd`, `${ds}-thumbnail_x.png`, `${ds.toUpperCase()}-00ab12cd34ef5678`, `x-${ds}-00ab12cd34ef5678`]) {
      expect(parseImageId(bad)).toBeNull();
    }
  });
});

describe('imageMime', () => {
  it.each(['png', 'jpeg', 'gif', 'webp', 'tiff'] as const)('recognises %s by its bytes', async (format) => {
    const data = await sharp({ create: { width: 4, height: 3, channels: 3, background: '#123456' } }).toFormat(format).toBuffer();
    expect(imageMime(data)).toBe(`image/${format}`);
  });
  it('recognises BMP and refuses non-images', () => {
    expect(imageMime(Buffer.from('BM\u0000\u0000', 'latin1'))).toBe('image/bmp');
    expect(imageMime(Buffer.from('{"code":0}'))).toBeNull();
    expect(imageMime(Buffer.alloc(0))).toBeNull();
  });
});
