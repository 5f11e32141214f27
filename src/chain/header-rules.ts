// The rules a block header obeys relative to the chain it extends, written once. The processor
// applies them before it signs a block, a mirror node when it checks a received block, and the
// store before it commits one; each caller decides what a broken rule means for it (a bug that
// stops the processor, an alarm, a refused commit), so the rules return a typed fault.

import { ChainError } from '../core/errors.js';

/** The previous hash of block 0. */
export const ZERO_HASH_HEX = '00'.repeat(32);

/** The last block of a chain, as far as the header of the block after it depends on it. */
export interface HeadInfo {
  readonly height: number;
  readonly hashHex: string;
  readonly processedMs: number;
}

/** The header fields the rules look at. */
export interface HeaderFields {
  readonly height: number;
  readonly previousHashHex: string;
  readonly processedMs: number;
}

/** A broken rule: which field, what the chain expects and what the block says. */
export interface HeaderFault {
  readonly code: 'block_out_of_order' | 'block_link_mismatch' | 'block_time_not_increasing';
  readonly field: 'height' | 'previousHash' | 'processedMs';
  readonly expected: string | number;
  readonly got: string | number;
  readonly message: string;
}

/**
 * The first rule `block` breaks as the block after `head` (null: the chain is empty, so the
 * block must be block 0), or null when it follows. Rules in this order: the height is one more
 * than the head's, the previous hash is the head's hash (the zero hash for block 0), and the time
 * is later than the head's.
 */
export function headerFault(block: HeaderFields, head: HeadInfo | null): HeaderFault | null {
  const want = head === null ? 0 : head.height + 1;
  if (block.height !== want) {
    const why =
      block.height > want
        ? `block ${want} was skipped`
        : `block ${block.height} is repeated or out of order`;
    const after = head === null ? 'an empty chain' : `block ${head.height}`;
    return {
      code: 'block_out_of_order',
      field: 'height',
      expected: want,
      got: block.height,
      message: `expected block ${want} after ${after}, got block ${block.height}: ${why}`,
    };
  }
  const previousHashHex = block.previousHashHex.toLowerCase();
  const wantPrevious = head === null ? ZERO_HASH_HEX : head.hashHex;
  if (previousHashHex !== wantPrevious) {
    const whose =
      head === null
        ? 'block 0 must link to the zero hash'
        : `block ${head.height} has hash ${head.hashHex}`;
    return {
      code: 'block_link_mismatch',
      field: 'previousHash',
      expected: wantPrevious,
      got: previousHashHex,
      message: `block ${block.height} links to ${previousHashHex}, but ${whose}`,
    };
  }
  if (head !== null && block.processedMs <= head.processedMs) {
    return {
      code: 'block_time_not_increasing',
      field: 'processedMs',
      expected: `more than ${head.processedMs}`,
      got: block.processedMs,
      message: `block ${block.height} has processedMs ${block.processedMs}, not later than block ${head.height}'s ${head.processedMs}`,
    };
  }
  return null;
}

/** Throws the fault's code as a ChainError when `block` does not follow `head`. */
export function assertFollowsHead(block: HeaderFields, head: HeadInfo | null): void {
  const fault = headerFault(block, head);
  if (fault !== null) throw headerError(fault, block.height);
}

export function headerError(fault: HeaderFault, height: number): ChainError {
  const { field, expected, got } = fault;
  return new ChainError(fault.code, fault.message, { height, field, expected, got });
}

/** The time of the block after `head` produced at `nowMs`: now, but always later than the head. */
export function blockTimeAfter(head: HeadInfo, nowMs: number): number {
  return Math.max(nowMs, head.processedMs + 1);
}

/**
 * Why a header breaks the rules of block 0 (links to the zero hash, carries the genesis) or of
 * every other block (no genesis), or null when it does not. Part of the format: the codec refuses
 * to build or decode such a block.
 */
export function genesisPlacementProblem(
  height: number,
  previousHashHex: string,
  hasGenesis: boolean,
): string | null {
  if (height === 0 && previousHashHex.toLowerCase() !== ZERO_HASH_HEX) {
    return `block 0 must link to the zero hash, got ${previousHashHex}`;
  }
  if (height === 0 && !hasGenesis)
    return 'block 0 carries no genesis information: block 0 must carry the genesis';
  if (height !== 0 && hasGenesis)
    return `block ${height} carries genesis information: only block 0 may carry genesis information`;
  return null;
}
