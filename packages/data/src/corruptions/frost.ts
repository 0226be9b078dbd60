import { DataError, processEnv } from '@chainz/core';
import { pathKind } from '../files';
import { nodeApi } from '../text/node';
import { resizeLinearU8 } from './opencv';
import { loadSharp } from './sharp';

/**
 * Frost textures of the CIFAR-10-C generator: `frost1.png`, `frost2.png`,
 * `frost3.png`, `frost4.jpg`, `frost5.jpg` (the CIFAR version picks among
 * these five only). Each is decoded to 8-bit RGB with any alpha channel
 * dropped (OpenCV's `imread` does the same), then scaled by 0.2 with
 * OpenCV-style bilinear resizing.
 */

/** A decoded, scaled texture: `[h, w, 3]` uint8 RGB. */
export interface FrostTexture {
  file: string;
  data: Uint8Array;
  h: number;
  w: number;
}

/** File names of the five textures, in the generator's index order. */
export const FROST_FILES = Object.freeze(['frost1.png', 'frost2.png', 'frost3.png', 'frost4.jpg', 'frost5.jpg']);

const cache = new Map<string, Promise<FrostTexture[]>>();

/**
 * Default texture folder: `<CHAINZ_DATA_DIR>/cifar10c/frost`.
 *
 * @throws DataError when CHAINZ_DATA_DIR is unset.
 */
export function defaultFrostDir(): string {
  const root = processEnv().CHAINZ_DATA_DIR;
  if (!root) {
    throw new DataError(
      'frost needs its texture images: pass opts.frostDir or set CHAINZ_DATA_DIR (textures in <CHAINZ_DATA_DIR>/cifar10c/frost)',
      { option: 'frostDir' },
      'The textures (frost1.png … frost5.jpg) are in hendrycks/robustness, ImageNet-C/create_c/.',
    );
  }
  return `${root.replace(/[\\/]+$/, '')}/cifar10c/frost`;
}

/**
 * Load (once per folder, then cached) the five frost textures, scaled by 0.2.
 *
 * @param dir folder holding frost1.png … frost5.jpg.
 * @throws DataError naming the first missing or undecodable texture.
 */
export async function loadFrostTextures(dir: string): Promise<FrostTexture[]> {
  const { path } = await nodeApi('the frost corruption (texture files)');
  const key = path.resolve(dir);
  let p = cache.get(key);
  if (!p) {
    p = decodeAll(key);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function decodeAll(dir: string): Promise<FrostTexture[]> {
  const [sharp, { path }] = await Promise.all([loadSharp('the frost corruption'), nodeApi('the frost corruption (texture files)')]);
  const out: FrostTexture[] = [];
  for (const name of FROST_FILES) {
    const file = path.join(dir, name);
    if ((await pathKind(file)) !== 'file') {
      throw new DataError(
        'frost texture not found (the frost corruption needs all of frost1.png, frost2.png, frost3.png, frost4.jpg, frost5.jpg)',
        { file },
        'Copy the textures from hendrycks/robustness, ImageNet-C/create_c/, or pass opts.frostDir.',
      );
    }
    let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
    try {
      raw = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    } catch (e) {
      throw new DataError(`cannot decode the frost texture (${(e as Error).message})`, { file }, undefined, { cause: e });
    }
    const { width, height, channels } = raw.info;
    let rgb = new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.length);
    if (channels === 1) {
      const g = rgb;
      rgb = new Uint8Array(width * height * 3);
      for (let i = 0; i < g.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = g[i];
    } else if (channels !== 3) {
      throw new DataError(`unexpected ${channels} channels after decoding`, { file });
    }
    const scaled = resizeLinearU8(rgb, height, width, 3, 0.2, 0.2);
    if (scaled.h <= 32 || scaled.w <= 32) {
      throw new DataError(`texture too small: ${width}×${height} scales to ${scaled.w}×${scaled.h}, need more than 32×32`, { file });
    }
    out.push({ file, data: scaled.data, h: scaled.h, w: scaled.w });
  }
  return out;
}
