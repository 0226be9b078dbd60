// Test-only helper (not exported from the package): build .npy bytes.

/** Build a .npy file (version 1 or 2) from a header dict text and the data bytes. */
export function npyBytes(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  let h = dict;
  const total = Math.ceil((pre + h.length + 1) / 64) * 64;
  h = h + ' '.repeat(total - pre - h.length - 1) + '\n';
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  if (major === 1) {
    out[8] = h.length & 0xff;
    out[9] = h.length >> 8;
  } else {
    new DataView(out.buffer).setUint32(8, h.length, true);
  }
  out.set(new TextEncoder().encode(h), pre);
  out.set(data, total);
  return out;
}

/** Header dict text for a C-order array. */
export function npyDict(descr: string, shape: number[]): string {
  return `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
}
