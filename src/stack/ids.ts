// The derived ids of the two transactions that cross between a child and a parent market
// (docs/decisions/0012-stacked-marketplaces.md, "Exactly once"). Both are a function of what the
// transaction is, never of when it was built, so a retry sends the same id and a second copy is
// refused by the chain that holds the first.

import { toHex, utf8Encode } from '../core/bytes.js';
import { sha256 } from '../core/hash.js';

/** `up`: a MemberPosition (child to parent); `down`: an UpstreamSettlement (parent to child). */
export type StackDirection = 'up' | 'down';

export interface StackTxIdInput {
  readonly childChain: string;
  readonly parentChain: string;
  readonly childContext: string;
  readonly periodStartMs: number;
  readonly direction: StackDirection;
}

const ID_PREFIX = 'hanzenet-stack-v1';

/**
 * The first 16 bytes of SHA-256 of
 * `hanzenet-stack-v1\n<child chain>\n<parent chain>\n<child context>\n<periodStartMs>\n<up|down>`, hex.
 */
export function stackTxIdHex(input: StackTxIdInput): string {
  const text = [
    ID_PREFIX,
    input.childChain,
    input.parentChain,
    input.childContext,
    String(input.periodStartMs),
    input.direction,
  ].join('\n');
  return toHex(sha256(utf8Encode(text)).subarray(0, 16));
}
