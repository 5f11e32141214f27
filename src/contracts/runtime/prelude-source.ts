// The text QuickJS evaluates as the prelude (docs/contract-api.md, "The prelude"). It is made from
// the compiled `setup` of prelude.ts: Function.prototype.toString gives back the JavaScript tsc
// emitted for it, and a wrapper binds the two names it uses besides the language's globals,
// HOST_OP and CONTRACT_LIMITS, to their values as JSON. Evaluating the text gives `setup`.
//
// The text is part of the protocol: every node must run the same prelude. It depends only on
// prelude.ts, limits.ts and the TypeScript version in package-lock.json (tsconfig.json fixes the
// line ending to LF); line endings are made LF here as well, so a checkout with CRLF files gives
// the same bytes. test/contracts-prelude.test.ts pins its hash.

import { CONTRACT_LIMITS } from '../limits.js';
import { HOST_OP, setup } from './prelude.js';

/** The prelude as QuickJS evaluates it: an expression whose value is `setup(host)`. */
export function preludeSource(): string {
  const body = Function.prototype.toString.call(setup).replace(/\r\n?/g, '\n');
  return `(function (HOST_OP, CONTRACT_LIMITS) {\n  'use strict';\n  return ${body};\n})(${JSON.stringify(HOST_OP)}, ${JSON.stringify(CONTRACT_LIMITS)})`;
}

export const PRELUDE_SOURCE = preludeSource();
