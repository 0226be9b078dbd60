import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('examples', () => {
  it('fit-pima.mjs trains a PolyDense model with DREG via model.fit, and save/load round-trips exactly', () => {
    const r = spawnSync(process.execPath, [path.join(here, 'fit-pima.mjs'), '8'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, CHAINZ_BACKEND: 'wasm' } });
    expect(r.status, r.stderr).toBe(0);
    const m = r.stdout.match(/training loss \(CE \+ DREG\): ([\d.]+) → ([\d.]+)/);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeLessThan(Number(m![1]));
    const acc = Number(r.stdout.match(/test accuracy: ([\d.]+)%/)![1]);
    expect(acc).toBeGreaterThan(65);
    expect(r.stdout).toMatch(/reloaded predictions differ by at most 0$/m);
    const saved = r.stdout.match(/saved to (\S+)/)![1];
    expect(existsSync(saved)).toBe(false); // the temporary folder is removed without --keep
  }, 120_000);

  it('fit-pima.mjs refuses a bad epoch count with a usage line', () => {
    const r = spawnSync(process.execPath, [path.join(here, 'fit-pima.mjs'), 'abc'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^usage: node examples\/fit-pima\.mjs \[epochs\] \[--keep\]/);
  });
});
