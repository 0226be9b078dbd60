import { loadCifarCorruptionData, type CifarCorruptionData, type CifarCorruptionDataOptions } from '@chainz/data';
import type { OptionNames } from '@chainz/core';
import type { PlanContext } from '../../runner/contract';
import { withCliFlags } from './cli-flags';

/**
 * CIFAR-10 and its corrupted test sets for a `chainz bench` command:
 * {@link loadCifarCorruptionData} with the run's progress bar (one tick per
 * corruption × severity, "(cache)" or "(generated)"), its worker threads and
 * log, one summary line on what was generated, and errors naming the
 * command's flags (`flags`: library option → CLI flag, see `withCliFlags`).
 *
 * @param options what to load, as for `loadCifarCorruptionData` (`workers`, `log` and `onSet` come from `ctx`).
 * @param ctx the plan context of the experiment.
 * @param flags the command's names of the options.
 * @throws whatever `loadCifarCorruptionData` throws (a `DataError` naming the file, a `ConfigError` naming the flag).
 */
export async function loadCifarForRun(
  options: Omit<CifarCorruptionDataOptions, 'workers' | 'log' | 'onSet'>,
  ctx: PlanContext,
  flags: OptionNames,
): Promise<CifarCorruptionData> {
  let started = false;
  const data = await withCliFlags(flags, () =>
    loadCifarCorruptionData({
      ...options,
      workers: ctx.workers,
      log: (m) => ctx.log(m),
      onSet: (done, total, set, fromCache) => {
        if (!started) {
          ctx.progress.start(total, 'cifar10c data');
          started = true;
        }
        ctx.progress.tick(`${set.corruption} s${set.severity} ${fromCache ? '(cache)' : '(generated)'}`);
        if (done === total) ctx.progress.stop();
      },
    }),
  );
  if (data.generation) {
    const g = data.generation;
    ctx.log(`cifar10c data: ${g.generated} set(s) generated, ${g.fromCache} from cache${g.cacheDir ? ` (${g.cacheDir})` : ''}, ${g.seconds.toFixed(1)} s`);
  }
  return data;
}

/** Per-channel mean and std (population) of uint8 HWC images, in [0, 1] units. */
export function channelStats(images: Uint8Array): { mean: [number, number, number]; std: [number, number, number] } {
  const s = [0, 0, 0];
  const s2 = [0, 0, 0];
  for (let i = 0; i < images.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const v = images[i + c] / 255;
      s[c] += v;
      s2[c] += v * v;
    }
  }
  const n = images.length / 3;
  const mean = s.map((v) => v / n) as [number, number, number];
  const std = s2.map((v, c) => Math.sqrt(Math.max(v / n - mean[c] ** 2, 1e-12))) as [number, number, number];
  return { mean, std };
}
