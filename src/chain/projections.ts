// Builds the wire views (views.ts) from blocks, transactions, outcomes and stored records, and the
// record stored for a transaction. Pure functions: the processor, a mirror node and the store use
// the same ones.

import { toHex } from '../core/bytes.js';
import type { ContractRecord } from './contract-model.js';
import type { TxRecord } from './records.js';
import { receiverOf } from './tx.js';
import { CREATE_CONTRACT_HASH, DELETE_CONTRACT_HASH } from './types.js';
import type { Block, GenesisInfo, Tx, TxOutcome } from './types.js';
import type { BlockView, ContractView, GenesisView, TxView } from './views.js';

export function contractTypeOf(
  contractHashHex: string,
  typesByHash: ReadonlyMap<string, string>,
): string | null {
  if (contractHashHex === CREATE_CONTRACT_HASH) return 'Create Contract';
  if (contractHashHex === DELETE_CONTRACT_HASH) return 'Delete Contract';
  return typesByHash.get(contractHashHex) ?? null;
}

export function parsePayload(payloadText: string): unknown {
  try {
    return JSON.parse(payloadText) as unknown;
  } catch {
    return payloadText;
  }
}

export interface TxPlacement {
  readonly blockHeight: number | null;
  readonly position: number | null;
  readonly processedMs: number;
}

/** The record stored for a transaction with its final outcome. */
export function txRecordOf(
  tx: Tx,
  outcome: TxOutcome,
  contractType: string | null,
  createMs: number,
  placement: TxPlacement,
): TxRecord {
  return {
    idHex: tx.idHex,
    bytes: tx.bytes,
    contractHashHex: tx.contractHashHex,
    contractType,
    sender: tx.sender,
    validTillMs: tx.validTillMs,
    payloadText: tx.payloadText,
    signatureHex: toHex(tx.signature),
    publicKeyHex: toHex(tx.publicKey),
    createMs,
    outcome,
    blockHeight: placement.blockHeight,
    position: placement.position,
    processedMs: placement.processedMs,
    receiver: receiverOf(tx.payloadText),
  };
}

export function txViewOfRecord(r: TxRecord): TxView {
  const inBlock = r.outcome.status === 'accepted' || r.outcome.status === 'rejected';
  return {
    id: r.idHex,
    version: 1,
    contractHash: r.contractHashHex,
    validTill: r.validTillMs,
    payload: parsePayload(r.payloadText),
    publicKey: r.publicKeyHex,
    signature: r.signatureHex,
    status: r.outcome.status,
    code: r.outcome.status === 'accepted' ? null : r.outcome.code,
    message: r.outcome.message,
    createTs: r.createMs,
    sender: inBlock ? r.sender : null,
    contractType: r.contractType,
    blockId: r.blockHeight,
    positionInBlock: r.position,
    processedTs: r.processedMs,
    receiver: r.receiver,
  };
}

export function pendingTxView(tx: Tx, contractType: string | null, createMs: number): TxView {
  return {
    id: tx.idHex,
    version: 1,
    contractHash: tx.contractHashHex,
    validTill: tx.validTillMs,
    payload: parsePayload(tx.payloadText),
    publicKey: toHex(tx.publicKey),
    signature: toHex(tx.signature),
    status: 'new',
    code: null,
    message: null,
    createTs: createMs,
    sender: null,
    contractType,
    blockId: null,
    positionInBlock: null,
    processedTs: null,
    receiver: receiverOf(tx.payloadText),
  };
}

export function blockViewOf(block: Block, typesByHash: ReadonlyMap<string, string>): BlockView {
  return {
    height: block.height,
    hash: block.hashHex,
    previousHash: block.previousHashHex,
    processedMs: block.processedMs,
    stateDigest: block.stateDigestHex,
    txCount: block.txs.length,
    transactions: block.txs.map((tx, i) => {
      const outcome = block.outcomes[i];
      return {
        id: tx.idHex,
        contractType: contractTypeOf(tx.contractHashHex, typesByHash),
        sender: tx.sender,
        status: outcome?.status ?? 'rejected',
        code: outcome && outcome.status === 'rejected' ? outcome.code : null,
        message: outcome?.message ?? '',
      };
    }),
    signature: toHex(block.signature),
    genesis: block.genesis === null ? null : genesisViewOf(block.genesis),
  };
}

export function genesisViewOf(genesis: GenesisInfo): GenesisView {
  return {
    chainId: genesis.chainId,
    processorPublicKey: genesis.processorPublicKeyHex,
    processorAddress: genesis.processorAddress,
  };
}

export function contractViewOf(c: ContractRecord): ContractView {
  return {
    hash: c.hashHex,
    type: c.type,
    version: c.version,
    description: c.description,
    template: c.template,
    validanaVersion: c.validanaVersion,
    createdHeight: c.createdHeight,
  };
}
