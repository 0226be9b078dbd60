/**
 * The command that continues an interrupted run: this command's arguments
 * with `--out` / `--resume` replaced by `--resume DIR` (every other option
 * kept: a resumed run must use the same settings), quoted for a POSIX shell.
 */
export function resumeCommand(args: readonly string[], dir: string): string {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--out' || a === '--resume') i++;
    else if (!a.startsWith('--out=') && !a.startsWith('--resume=')) kept.push(a);
  }
  const quote = (t: string) => (/^[\w@%+=:,./-]+$/.test(t) ? t : `'${t.replace(/'/g, `'\\''`)}'`);
  return ['chainz', ...kept, '--resume', dir].map(quote).join(' ');
}
