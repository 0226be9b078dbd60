import cliProgress from 'cli-progress';

/** Progress of a long run: a live bar on a terminal, one line per unit otherwise, or nothing. */
export interface Progress {
  start(total: number, title: string): void;
  /** One unit of work finished (`line` is printed in line mode). */
  tick(line: string): void;
  /** `n` units were already done (e.g. resumed from an earlier run): one line for all of them; nothing for n = 0. */
  skip(n: number, line: string): void;
  /** Print a message without breaking the bar. */
  log(message: string): void;
  stop(): void;
}

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

/**
 * Make a progress reporter writing to stderr. `auto`: a bar (cli-progress)
 * when stderr is a terminal, otherwise one line per unit.
 */
export function createProgress(mode: ProgressMode = 'auto', stream: NodeJS.WriteStream = process.stderr): Progress {
  const resolved = mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'none') return { start() {}, tick() {}, skip() {}, log() {}, stop() {} };
  if (resolved === 'lines') {
    let done = 0, total = 0, title = '';
    return {
      start(t, ttl) {
        total = t;
        title = ttl;
        done = 0;
      },
      tick(line) {
        done++;
        stream.write(`[${title} ${done}/${total}] ${line}\n`);
      },
      skip(n, line) {
        if (n <= 0) return;
        done += n;
        stream.write(`[${title} ${done}/${total}] ${n} unit(s) ${line}${done >= total ? ' (all complete: nothing left to run)' : ''}\n`);
      },
      log(m) {
        stream.write(m + '\n');
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream, format: '{title} [{bar}] {value}/{total} | {eta_formatted} left | {last}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  return {
    start(total, title) {
      bar.start(total, 0, { title, last: '' });
    },
    tick(line) {
      bar.increment(1, { last: line });
    },
    skip(n, line) {
      if (n > 0) bar.increment(n, { last: `${n} unit(s) ${line}` });
    },
    log(m) {
      stream.write('\n' + m + '\n');
    },
    stop() {
      bar.stop();
    },
  };
}
