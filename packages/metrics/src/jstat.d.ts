// jStat ships no type declarations; only what @chainz/metrics uses is declared.
declare module 'jstat' {
  const jstat: { jStat: { tukey: { cdf(q: number, nmeans: number, df: number): number; inv(p: number, nmeans: number, df: number): number } } };
  export default jstat;
}
