// Helper functions shared by several contracts. A contract's code on chain is one function
// expression (runtime/lifecycle.ts checks this at create), so a helper cannot travel beside
// `execute`: the packer puts the source of each helper the contract declares at the start of
// execute's body, where function declarations are in scope for all of it. The contract's code
// hash therefore covers its helpers, and each helper appears once per contract that uses it.
//
// A helper is a plain, self-contained function declaration (no closure over module state, no
// imports at run time), exported from a module the contract imports, and listed in the
// contract's `helpers`. A name that the code uses but that is neither defined in it nor a declared
// helper nor a global of the language is refused at pack time, so a helper or a module constant
// that was imported but not declared cannot reach the chain as a ReferenceError waiting to happen.

import { runInNewContext } from 'node:vm';
import { ChainError } from '../../core/errors.js';
import { closingIndex, declaredNames, tokenize, usedNames } from './source-scan.js';
import type { Token } from './source-scan.js';

export type ContractHelper = (...args: never[]) => unknown;
/** Helpers by name; each key must be the function's own name. */
export type ContractHelpers = Readonly<Record<string, ContractHelper>>;

const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

let languageGlobals: ReadonlySet<string> | null = null;

/** The globals of a fresh JavaScript realm (Object, BigInt, JSON, ...): calling them needs no helper. */
function globalNames(): ReadonlySet<string> {
  languageGlobals ??= new Set(
    runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[],
  );
  return languageGlobals;
}

function refuse(contractType: string, message: string): never {
  throw new ChainError('contract_create_invalid', `contract ${contractType}: ${message}`);
}

/** The source of one helper, checked to be a plain function declaration with its key as name. */
function helperSource(contractType: string, name: string, fn: ContractHelper): string {
  if (!NAME.test(name))
    refuse(contractType, `helper name ${JSON.stringify(name)} is not an identifier`);
  if (typeof fn !== 'function') refuse(contractType, `helper ${name} is not a function`);
  const source = Function.prototype.toString.call(fn).trim();
  if (!new RegExp(`^function\\s+${name.replace(/\$/g, '\\$')}\\s*\\(`).test(source)) {
    refuse(
      contractType,
      `helper ${name} must be a plain function declaration named ${name} (function ${name}(...) {...}), got ${JSON.stringify(source.slice(0, 60))}`,
    );
  }
  return source;
}

/** The index of the `{` that opens execute's body. */
function bodyStart(contractType: string, tokens: readonly Token[]): number {
  const first = tokens[0];
  let close: number;
  if (first?.text === 'function') {
    const open = tokens.findIndex((t) => t.text === '(');
    close = open < 0 ? -1 : closingIndex(tokens, open);
  } else if (first?.text === '(') {
    close = closingIndex(tokens, 0);
  } else {
    close = first?.kind === 'name' ? 0 : -1;
  }
  let brace = close + 1;
  if (tokens[brace]?.text === '=>') brace++;
  if (close < 0 || tokens[brace]?.text !== '{')
    refuse(contractType, 'execute must be a function with a block body ({ ... }) to use helpers');
  return brace;
}

function scan(contractType: string, what: string, source: string): Token[] {
  try {
    return tokenize(source);
  } catch (err) {
    return refuse(
      contractType,
      `the source of ${what} could not be read: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/**
 * The contract's code: execute's source with the declared helpers' sources at the start of its
 * body, in the order of `helpers`. Refuses uses of undefined names, unused helpers, and helpers
 * that execute also defines itself.
 */
export function withHelpers(
  contractType: string,
  executeText: string,
  helpers: ContractHelpers = {},
): string {
  const executeTokens = scan(contractType, 'execute', executeText);
  const declared = declaredNames(executeTokens);
  const sources: string[] = [];
  const used = new Set(usedNames(executeTokens));
  for (const [name, fn] of Object.entries(helpers)) {
    if (declared.has(name))
      refuse(
        contractType,
        `execute defines ${name} itself and also declares it as a helper; keep one`,
      );
    const source = helperSource(contractType, name, fn);
    const tokens = scan(contractType, `helper ${name}`, source);
    for (const n of declaredNames(tokens)) declared.add(n);
    for (const n of usedNames(tokens.slice(2))) used.add(n);
    sources.push(source);
  }
  const globals = globalNames();
  const undefinedNames = [...used].filter((n) => !declared.has(n) && !globals.has(n));
  if (undefinedNames.length > 0) {
    const list = undefinedNames.join(', ');
    refuse(
      contractType,
      `execute uses ${list}, which its code does not define. Only execute's text and its declared helpers go on chain: list shared helpers in defineContract({ helpers: { ${list} } }), or define the function or constant inside execute`,
    );
  }
  const unused = Object.keys(helpers).filter((n) => !used.has(n));
  if (unused.length > 0)
    refuse(
      contractType,
      `helpers ${unused.join(', ')} are declared but never used; leave them out so they do not go on chain`,
    );
  if (sources.length === 0) return executeText;
  const at = (executeTokens[bodyStart(contractType, executeTokens)] as Token).at + 1;
  return `${executeText.slice(0, at)}\n${sources.join('\n')}${executeText.slice(at)}`;
}
