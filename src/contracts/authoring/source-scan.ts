// A small JavaScript scanner for the packer: it splits compiled contract source into tokens (so
// that names inside strings, template text, comments and regular expressions are never taken for
// code), and from them finds the names a function uses and the names it defines. It is not a
// parser: it knows just enough syntax for the code tsc emits from a contract, and is used only to
// refuse a contract at pack time with a clear message. It never changes what goes on chain.

export type TokenKind = 'name' | 'number' | 'string' | 'template' | 'regex' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** Offset of the token's first character in the source. */
  readonly at: number;
}

const NAME_HEAD = /[A-Za-z_$]/;
const NAME_PART = /[A-Za-z0-9_$]/;
/** Punctuators of more than one character that matter here (`?.(` is an optional call). */
const LONG_PUNCT = ['...', '=>', '?.'];
/** Words after which a `/` starts a regular expression, not a division. */
const BEFORE_EXPRESSION = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/** Scans `source` into tokens; throws on an unterminated string, template, comment or regex. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // What each open `{` is: a block or object ('{'), or the `${` of a template ('${').
  const braces: ('{' | '${')[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`unterminated ${what} at offset ${i}`);
  };
  const templateRest = (start: number): void => {
    // Scans template text from `i` (just after "`" or "}") to its end or to the next "${".
    for (;;) {
      if (i >= source.length) fail('template');
      const c = source[i];
      if (c === '\\') i += 2;
      else if (c === '`') {
        i++;
        tokens.push({ kind: 'template', text: source.slice(start, i), at: start });
        return;
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2;
        braces.push('${');
        tokens.push({ kind: 'template', text: source.slice(start, i), at: start });
        return;
      } else i++;
    }
  };
  while (i < source.length) {
    const c = source[i] as string;
    const start = i;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && source[i + 1] === '/') {
      const end = source.indexOf('\n', i);
      i = end < 0 ? source.length : end;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) fail('comment');
      i = end + 2;
    } else if (c === '"' || c === "'") {
      for (i++; source[i] !== c; i++) {
        if (i >= source.length || source[i] === '\n') fail('string');
        if (source[i] === '\\') i++;
      }
      i++;
      tokens.push({ kind: 'string', text: source.slice(start, i), at: start });
    } else if (c === '`') {
      i++;
      templateRest(start);
    } else if (c === '}' && braces[braces.length - 1] === '${') {
      braces.pop();
      i++;
      templateRest(start);
    } else if (c === '/' && regexAllowed(tokens[tokens.length - 1])) {
      let inClass = false;
      for (i++; inClass || source[i] !== '/'; i++) {
        if (i >= source.length || source[i] === '\n') fail('regular expression');
        if (source[i] === '\\') i++;
        else if (source[i] === '[') inClass = true;
        else if (source[i] === ']') inClass = false;
      }
      for (i++; i < source.length && NAME_PART.test(source[i] as string); i++);
      tokens.push({ kind: 'regex', text: source.slice(start, i), at: start });
    } else if (NAME_HEAD.test(c)) {
      for (i++; i < source.length && NAME_PART.test(source[i] as string); i++);
      tokens.push({ kind: 'name', text: source.slice(start, i), at: start });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      for (i++; i < source.length && /[0-9A-Za-z_.]/.test(source[i] as string); i++);
      tokens.push({ kind: 'number', text: source.slice(start, i), at: start });
    } else {
      const long = LONG_PUNCT.find(
        (p) => source.startsWith(p, i) && !(p === '?.' && /[0-9]/.test(source[i + 2] ?? '')),
      );
      i += long === undefined ? 1 : long.length;
      if (c === '{') braces.push('{');
      else if (c === '}') braces.pop();
      tokens.push({ kind: 'punct', text: long ?? c, at: start });
    }
  }
  return tokens;
}

function regexAllowed(prev: Token | undefined): boolean {
  if (prev === undefined) return true;
  if (prev.kind === 'name') return BEFORE_EXPRESSION.has(prev.text);
  if (prev.kind === 'punct') return prev.text !== ')' && prev.text !== ']' && prev.text !== '}';
  return false;
}

/** The index of the token that closes the bracket opened at `open`, or -1. */
export function closingIndex(tokens: readonly Token[], open: number): number {
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind !== 'punct') continue;
    if (pairs[t.text] !== undefined) depth++;
    else if (t.text === ')' || t.text === ']' || t.text === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

const KEYWORDS = new Set([
  'if',
  'for',
  'while',
  'switch',
  'catch',
  'function',
  'return',
  'typeof',
  'instanceof',
  'new',
  'delete',
  'void',
  'throw',
  'await',
  'yield',
  'super',
  'import',
  'in',
  'of',
  'do',
  'else',
  'case',
  'class',
  'const',
  'let',
  'var',
  'this',
  'try',
  'finally',
  'break',
  'continue',
  'default',
  'with',
  'debugger',
  'extends',
  'export',
  'true',
  'false',
  'null',
  'async',
  'get',
  'set',
  'static',
  'enum',
  'arguments',
]);

/** Names bound anywhere in the tokens: functions, classes, variables, parameters, catch bindings. */
export function declaredNames(tokens: readonly Token[]): Set<string> {
  const names = new Set<string>();
  const addNamesIn = (from: number, to: number): void => {
    for (let j = from; j <= to; j++) {
      const t = tokens[j] as Token;
      if (t.kind === 'name' && tokens[j + 1]?.text !== ':') names.add(t.text);
    }
  };
  tokens.forEach((t, i) => {
    const next = tokens[i + 1];
    if (t.kind === 'punct' && t.text === '=>' && i > 0) {
      const prev = tokens[i - 1] as Token;
      if (prev.kind === 'name') names.add(prev.text);
      else if (prev.text === ')') addNamesIn(openingIndex(tokens, i - 1), i - 1);
      return;
    }
    if (t.kind !== 'name' || next === undefined) return;
    if ((t.text === 'function' || t.text === 'class') && next.kind === 'name') names.add(next.text);
    if (t.text === 'const' || t.text === 'let' || t.text === 'var') {
      if (next.kind === 'name') names.add(next.text);
      else if (next.text === '{' || next.text === '[')
        addNamesIn(i + 1, closingIndex(tokens, i + 1));
    }
    if (t.text === 'catch' && next.text === '(') addNamesIn(i + 1, closingIndex(tokens, i + 1));
    // Parameters of a function, and of a method: a name (not `if`, `while`...), a parameter list
    // and a body.
    if (t.text !== 'function' && KEYWORDS.has(t.text)) return;
    const paren =
      t.text === 'function'
        ? tokens.findIndex((x, j) => j > i && x.text === '(')
        : next.text === '('
          ? i + 1
          : -1;
    if (paren < 0) return;
    const close = closingIndex(tokens, paren);
    if (close < 0 || (t.text !== 'function' && tokens[close + 1]?.text !== '{')) return;
    addNamesIn(paren, close);
    if (t.text !== 'function') names.add(t.text);
  });
  return names;
}

function openingIndex(tokens: readonly Token[], close: number): number {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    const t = tokens[i] as Token;
    if (t.kind !== 'punct') continue;
    if (t.text === ')' || t.text === ']' || t.text === '}') depth++;
    else if (t.text === '(' || t.text === '[' || t.text === '{') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return 0;
}

/**
 * Names used as values or called (not `x.name`, not an object key `name: ...`, not a label, not a
 * keyword), in order of first use. Declared names are included: callers subtract the ones they
 * know of.
 */
export function usedNames(tokens: readonly Token[]): string[] {
  const used: string[] = [];
  tokens.forEach((t, i) => {
    if (t.kind !== 'name' || KEYWORDS.has(t.text)) return;
    const prev = tokens[i - 1];
    if (
      prev !== undefined &&
      (prev.text === '.' || prev.text === '?.' || prev.text === 'break' || prev.text === 'continue')
    )
      return;
    // A key of an object literal or a label; after `?` or `case` the name before `:` is a value.
    if (
      tokens[i + 1]?.text === ':' &&
      (prev === undefined || ['{', ',', ';', '}'].includes(prev.text))
    )
      return;
    if (!used.includes(t.text)) used.push(t.text);
  });
  return used;
}
