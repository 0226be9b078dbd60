/**
 * A parser of the Python literal expressions that `.npy` headers hold — the
 * subset of Python's `ast.literal_eval` that numpy's reader accepts there:
 * dicts, tuples, lists, strings (with `u`/`r`/`b` prefixes, escapes, implicit
 * concatenation, triple quotes), integers (decimal, `0x`, `0o`, `0b`, `_`
 * separators, one unary sign), floats, `True`, `False`, `None`, comments and
 * any whitespace between tokens. Anything else is a {@link PyLiteralError}
 * with the 0-based character offset, as Python's `SyntaxError`/`ValueError`.
 *
 * `allowLongSuffix`: Python 2 wrote `3L` for long integers; numpy strips that
 * `L` for format versions 1.0 and 2.0 (not 3.0).
 */

/** A parsed literal. Integers are exact (bigint); floats are only marked. */
export type PyValue =
  | { t: 'str'; v: string }
  | { t: 'bytes' }
  | { t: 'int'; v: bigint }
  | { t: 'float' }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'tuple'; items: PyValue[] }
  | { t: 'list'; items: PyValue[] }
  | { t: 'set'; items: PyValue[] }
  | { t: 'dict'; entries: [PyValue, PyValue][] };

/** Syntax error at character offset `at`. */
export class PyLiteralError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/** Deepest nesting of brackets accepted (numpy's headers have 2 levels). */
const MAX_DEPTH = 100;

/** Parse `text` as one Python literal expression (surrounding whitespace, newlines and comments allowed). */
export function parsePyLiteral(text: string, allowLongSuffix = false): PyValue {
  let i = 0;
  const n = text.length;
  const fail = (msg: string, at = i): never => {
    throw new PyLiteralError(msg, at);
  };
  const skip = () => {
    for (;;) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') i++;
      else if (c === '#') while (i < n && text[i] !== '\n' && text[i] !== '\r') i++;
      else if (c === '\\' && (text[i + 1] === '\n' || text[i + 1] === '\r')) i += text[i + 1] === '\r' && text[i + 2] === '\n' ? 3 : 2;
      else return;
    }
  };
  const isIdent = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

  const readString = (): { bytes: boolean; v: string } | null => {
    const m = /^([rRuUbB]{0,2})(['"])/.exec(text.slice(i, i + 4));
    if (!m) return null;
    const prefix = m[1].toLowerCase();
    if (prefix.length === 2 && !(prefix === 'rb' || prefix === 'br')) return null;
    const raw = prefix.includes('r');
    const bytes = prefix.includes('b');
    const q = m[2];
    i += prefix.length;
    const triple = text.startsWith(q.repeat(3), i);
    const close = triple ? q.repeat(3) : q;
    const start = i;
    i += close.length;
    let v = '';
    for (;;) {
      if (i >= n) fail('unterminated string literal', start);
      const c = text[i];
      if (text.startsWith(close, i)) {
        i += close.length;
        return { bytes, v };
      }
      if (!triple && (c === '\n' || c === '\r')) fail('unterminated string literal', start);
      if (c === '\\') {
        const d = text[i + 1];
        if (d === undefined) fail('unterminated string literal', start);
        if (raw) {
          v += c + d;
          i += 2;
          continue;
        }
        i += 2;
        switch (d) {
          case '\n':
            break;
          case '\r':
            if (text[i] === '\n') i++;
            break;
          case '\\':
          case "'":
          case '"':
            v += d;
            break;
          case 'n':
            v += '\n';
            break;
          case 't':
            v += '\t';
            break;
          case 'r':
            v += '\r';
            break;
          case 'a':
            v += '\x07';
            break;
          case 'b':
            v += '\b';
            break;
          case 'f':
            v += '\f';
            break;
          case 'v':
            v += '\v';
            break;
          case 'x': {
            const h = /^[0-9a-fA-F]{2}/.exec(text.slice(i, i + 2));
            if (!h) fail('truncated \\xXX escape', i - 2);
            v += String.fromCharCode(parseInt(h![0], 16));
            i += 2;
            break;
          }
          case 'u':
          case 'U': {
            const len = d === 'u' ? 4 : 8;
            const h = new RegExp(`^[0-9a-fA-F]{${len}}`).exec(text.slice(i, i + len));
            if (bytes) {
              v += '\\' + d;
              break;
            }
            if (!h) fail(`truncated \\${d} escape`, i - 2);
            const cp = parseInt(h![0], 16);
            if (cp > 0x10ffff) fail(`illegal Unicode character in \\${d} escape`, i - 2);
            v += String.fromCodePoint(cp);
            i += len;
            break;
          }
          case 'N':
            if (bytes) v += '\\N';
            else fail('\\N{…} escapes are not supported here', i - 2);
            break;
          default:
            if (/[0-7]/.test(d)) {
              const o = /^[0-7]{0,2}/.exec(text.slice(i, i + 2))![0];
              v += String.fromCharCode(parseInt(d + o, 8) & (bytes ? 0xff : 0x1ff));
              i += o.length;
            } else v += '\\' + d; // unknown escapes stay as written (Python keeps them)
        }
        continue;
      }
      v += c;
      i++;
    }
  };

  const readNumber = (): PyValue | null => {
    const rest = text.slice(i, i + 400);
    const prefixed = /^0(?:[xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)/.exec(rest);
    if (prefixed) {
      i += prefixed[0].length;
      if (isIdent(text[i])) return null;
      const body = prefixed[0].replace(/_/g, '');
      return { t: 'int', v: BigInt(body.toLowerCase()) };
    }
    const dec = /^(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?[jJ]?/.exec(rest);
    if (!dec || dec[0] === '') return null;
    const s = dec[0];
    i += s.length;
    if (/[.eEjJ]/.test(s)) {
      if (isIdent(text[i])) return null;
      return { t: 'float' };
    }
    const digits = s.replace(/_/g, '');
    if (digits.length > 1 && digits[0] === '0' && /[1-9]/.test(digits)) fail('leading zeros in a decimal integer literal are not permitted', i - s.length);
    if (allowLongSuffix && (text[i] === 'L' || text[i] === 'l') && !isIdent(text[i + 1])) i++;
    if (isIdent(text[i])) return null;
    return { t: 'int', v: BigInt(digits) };
  };

  const expr = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    skip();
    if (i >= n) fail('unexpected end of header');
    const c = text[i];
    if (c === '{' || c === '[' || c === '(') return container(depth);
    if (c === '+' || c === '-') {
      const at = i;
      i++;
      skip();
      const v = readNumber();
      if (v === null) fail(`malformed value after '${c}'`, at);
      return v!.t === 'int' && c === '-' ? { t: 'int', v: -v!.v } : v!;
    }
    const start = i;
    const s = readString();
    if (s !== null) {
      // implicit concatenation of adjacent string literals
      let { bytes, v } = s;
      for (;;) {
        const save = i;
        skip();
        const next = readString();
        if (next === null) {
          i = save;
          break;
        }
        if (next.bytes !== bytes) fail('cannot mix bytes and nonbytes literals', save);
        v += next.v;
      }
      return bytes ? { t: 'bytes' } : { t: 'str', v };
    }
    i = start;
    const num = readNumber();
    if (num !== null) return num;
    i = start;
    const word = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(text.slice(i, i + 64));
    if (word) {
      i += word[0].length;
      if (word[0] === 'True' || word[0] === 'False') return { t: 'bool', v: word[0] === 'True' };
      if (word[0] === 'None') return { t: 'none' };
      fail(`'${word[0]}' is not a literal`, start);
    }
    return fail(`unexpected character ${JSON.stringify(c)}`);
  };

  const container = (depth: number): PyValue => {
    const open = text[i];
    const close = open === '{' ? '}' : open === '[' ? ']' : ')';
    const at = i;
    i++;
    const items: PyValue[] = [];
    const entries: [PyValue, PyValue][] = [];
    let isDict: boolean | undefined;
    let comma = false;
    for (;;) {
      skip();
      if (i >= n) fail(`'${open}' was never closed`, at);
      if (text[i] === close) {
        i++;
        break;
      }
      if (items.length + entries.length > 0 && !comma) fail(`expected ',' or '${close}'`);
      const k = expr(depth + 1);
      skip();
      if (open === '{') {
        if (text[i] === ':') {
          if (isDict === false) fail("a set cannot hold 'key: value' items");
          isDict = true;
          i++;
          entries.push([k, expr(depth + 1)]);
          skip();
        } else {
          if (isDict === true) fail("expected ':' after a dict key");
          isDict = false;
          items.push(k);
        }
      } else items.push(k);
      comma = text[i] === ',';
      if (comma) i++;
      else if (open === '(' && items.length === 1 && text[i] === ')') {
        // `(x)` is x itself, not a tuple
        i++;
        return items[0];
      }
    }
    if (open === '[') return { t: 'list', items };
    if (open === '(') return { t: 'tuple', items };
    if (isDict === false) return { t: 'set', items };
    return { t: 'dict', entries };
  };

  const v = expr(0);
  skip();
  if (i < n) fail(`unexpected text after the expression: ${JSON.stringify(text.slice(i, i + 20))}`);
  return v;
}
