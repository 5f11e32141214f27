// The HTTP routes of stacked marketplaces (docs/api.md, "Stacked marketplaces"): reads that the
// uplink and the audit need (a chain's child contexts and their upstream rows and residual; a
// parent's members, their positions and their flows of a period), and the two transactions a
// processor signs for the other chain from its own chain: MemberPosition on a child, and
// UpstreamSettlement on a parent. A mirror node has no processor key: it serves the reads, and the
// signing routes answer 404.

import { CHAIN_ID_PATTERN } from '../chain/genesis.js';
import type { FastifyInstance } from 'fastify';
import type { ApiRoutes } from '../api/server.js';
import type { LedgerService } from '../api/types.js';
import { signTx } from '../chain/tx.js';
import { toHex } from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import type { PrivateKey } from '../core/keys.js';
import { ENERGY_CONTEXT_PATH, onlyParams, pathOf } from '../energy/http-routes.js';
import { parseAddressParam, parseIntegerParam } from '../energy/query-params.js';
import type { Sql } from '../store/types.js';
import { deriveDown, deriveUp } from './derive.js';
import {
  STACK_LIST_LIMIT_MAX,
  firstBlockAtOrAfter,
  flowsOfTrader,
  isPeriodSettled,
  marketTiming,
  memberPositionOf,
  memberPositions,
  membersOf,
  parentsOnChain,
  pricesOf,
  residualsOf,
  upstreamOf,
  upstreamRows,
} from './queries.js';
import { formatUeur } from './payloads.js';
import { memberFlowView, memberPositionView, residualRowView, upstreamRowView } from './views.js';
import type {
  MemberFlowsView,
  MemberPositionsView,
  MembersView,
  ParentsView,
  ResidualsView,
  SignedStackTxView,
  UpstreamView,
} from './views.js';

/** What a processor signs the crossing transactions with; null on a mirror node. */
export interface StackSigner {
  readonly key: PrivateKey;
  /** The packed hash of MemberPosition or UpstreamSettlement (the same on every chain). */
  contractHashHex(type: SignedStackTxView['contractType']): string;
}

export const STACK_PATH = `${ENERGY_CONTEXT_PATH}/market/stack`;
const LIMIT_DEFAULT = 100;
const MS_MAX = Number.MAX_SAFE_INTEGER;

export function stackRoutes(signer: StackSigner | null): ApiRoutes {
  return (app: FastifyInstance, service: LedgerService): void => {
    const database = (url: string): Sql => {
      const sql = service.querySql?.();
      if (sql === undefined) {
        throw new ChainError(
          'not_found',
          `this server keeps no database to answer ${pathOf(url)} from`,
        );
      }
      return sql;
    };
    const signerOf = (url: string): StackSigner => {
      if (signer === null) {
        throw new ChainError(
          'not_found',
          `this server holds no processor key to sign ${pathOf(url)}: ask the processor`,
        );
      }
      return signer;
    };
    registerChildReads(app, database);
    registerParentReads(app, database);

    app.get(`${STACK_PATH}/up/:periodStartMs`, async (req): Promise<SignedStackTxView> => {
      const s = signerOf(req.url);
      const { context, periodStartMs } = contextAndPeriod(req.params);
      const query = onlyParams(req.query, ['parentChain']);
      const parentChain = chainParam(query['parentChain'], 'parentChain');
      const chainId = (await service.info()).chainId;
      const up = await deriveUp(database(req.url), chainId, context, periodStartMs, parentChain);
      return signed(s.key, s.contractHashHex('MemberPosition'), 'MemberPosition', up);
    });

    app.get(`${STACK_PATH}/down/:periodStartMs`, async (req): Promise<SignedStackTxView> => {
      const s = signerOf(req.url);
      const { context, periodStartMs } = contextAndPeriod(req.params);
      const query = onlyParams(req.query, ['member', 'childChain']);
      const member = parseAddressParam(query['member'], 'member');
      const childChain = chainParam(query['childChain'], 'childChain');
      const chainId = (await service.info()).chainId;
      const sql = database(req.url);
      const down = await deriveDown(sql, chainId, context, periodStartMs, member, childChain);
      return signed(s.key, s.contractHashHex('UpstreamSettlement'), 'UpstreamSettlement', down);
    });
  };
}

function signed(
  key: PrivateKey,
  contractHashHex: string,
  contractType: SignedStackTxView['contractType'],
  derived: { idHex: string; chainId: string; payload: SignedStackTxView['payload'] },
): SignedStackTxView {
  // validTill 0 and RFC 6979 signatures: the same derivation always gives the same bytes.
  const tx = signTx(
    {
      idHex: derived.idHex,
      contractHashHex,
      validTillMs: 0,
      payloadText: JSON.stringify(derived.payload),
    },
    key,
    derived.chainId,
  );
  return {
    id: tx.idHex,
    chainId: derived.chainId,
    contractType,
    contractHash: contractHashHex,
    tx: toHex(tx.bytes),
    payload: derived.payload,
  };
}

type Database = (url: string) => Sql;

function registerChildReads(app: FastifyInstance, database: Database): void {
  app.get('/api/energy/stack/parents', async (req): Promise<ParentsView> => {
    const query = onlyParams(req.query, ['parentChain', 'after', 'limit']);
    const parentChain = chainParam(query['parentChain'], 'parentChain');
    const after = query['after'] === undefined ? '' : parseAddressParam(query['after'], 'after');
    const parents = await parentsOnChain(
      database(req.url),
      parentChain,
      after,
      limitParam(query['limit']),
    );
    return { parentChain, parents };
  });

  app.get(`${STACK_PATH}/upstream`, async (req): Promise<UpstreamView> => {
    const context = parseAddressParam(paramsOf(req.params)['context'], 'context');
    const query = onlyParams(req.query, ['state', 'from', 'limit']);
    const state = query['state'] ?? null;
    if (state !== null && state !== 'open' && state !== 'settled') {
      throw new ChainError(
        'bad_request',
        `state must be open or settled, got ${JSON.stringify(state)}`,
        { field: 'state' },
      );
    }
    const fromMs =
      query['from'] === undefined ? 0 : parseIntegerParam(query['from'], 'from', 0, MS_MAX);
    const rows = await upstreamRows(
      database(req.url),
      context,
      state,
      fromMs,
      limitParam(query['limit']),
    );
    return { context, upstream: rows.map(upstreamRowView) };
  });

  app.get(`${STACK_PATH}/residuals/:periodStartMs`, async (req): Promise<ResidualsView> => {
    const { context, periodStartMs } = contextAndPeriod(req.params);
    onlyParams(req.query, []);
    const sql = database(req.url);
    const timing = await marketTiming(sql, context);
    const residuals = await residualsOf(sql, context, periodStartMs);
    return {
      context,
      periodStartMs,
      periodSeconds: timing === null ? null : timing.periodMs / 1000,
      residuals: residuals.map(residualRowView),
    };
  });
}

function registerParentReads(app: FastifyInstance, database: Database): void {
  app.get(`${STACK_PATH}/members`, async (req): Promise<MembersView> => {
    const context = parseAddressParam(paramsOf(req.params)['context'], 'context');
    const query = onlyParams(req.query, ['chain', 'after', 'limit']);
    const chain = query['chain'] === undefined ? null : chainParam(query['chain'], 'chain');
    const after = query['after'] === undefined ? '' : parseAddressParam(query['after'], 'after');
    const members = await membersOf(
      database(req.url),
      context,
      chain,
      after,
      limitParam(query['limit']),
    );
    return { context, members };
  });

  app.get(`${STACK_PATH}/positions`, async (req): Promise<MemberPositionsView> => {
    const context = parseAddressParam(paramsOf(req.params)['context'], 'context');
    const query = onlyParams(req.query, ['member', 'from', 'limit']);
    const member =
      query['member'] === undefined ? null : parseAddressParam(query['member'], 'member');
    const fromMs =
      query['from'] === undefined ? 0 : parseIntegerParam(query['from'], 'from', 0, MS_MAX);
    const rows = await memberPositions(
      database(req.url),
      context,
      member,
      fromMs,
      limitParam(query['limit']),
    );
    return { context, positions: rows.map(memberPositionView) };
  });

  app.get(`${STACK_PATH}/flows/:periodStartMs`, async (req): Promise<MemberFlowsView> => {
    const { context, periodStartMs } = contextAndPeriod(req.params);
    const query = onlyParams(req.query, ['member']);
    const member = parseAddressParam(query['member'], 'member');
    const sql = database(req.url);
    const timing = await marketTiming(sql, context);
    const prices = await pricesOf(sql, context, periodStartMs);
    const gateBlock =
      timing === null
        ? null
        : await firstBlockAtOrAfter(sql, periodStartMs + timing.periodMs + timing.gateClosureMs);
    return {
      context,
      member,
      periodStartMs,
      settled: await isPeriodSettled(sql, context, periodStartMs),
      upstreamState: (await upstreamOf(sql, context, periodStartMs))?.state ?? null,
      hasPosition: (await memberPositionOf(sql, context, member, periodStartMs)) !== null,
      supplyEur: prices === null ? null : formatUeur(prices.supplyUeur),
      feedInEur: prices === null ? null : formatUeur(prices.feedInUeur),
      gateBlock,
      flows: (await flowsOfTrader(sql, context, periodStartMs, member)).map(memberFlowView),
    };
  });
}

function paramsOf(params: unknown): Record<string, string | undefined> {
  return params as Record<string, string | undefined>;
}

function contextAndPeriod(params: unknown): { context: string; periodStartMs: number } {
  const p = paramsOf(params);
  return {
    context: parseAddressParam(p['context'], 'context'),
    periodStartMs: parseIntegerParam(p['periodStartMs'], 'periodStartMs', 0, MS_MAX),
  };
}

function chainParam(value: string | undefined, field: string): string {
  if (value === undefined || !CHAIN_ID_PATTERN.test(value)) {
    throw new ChainError(
      'bad_request',
      `${field} must be a chain id (1-64 letters, digits, '.', '_', ':' or '-'), got ${JSON.stringify(value ?? null)}`,
      { field },
    );
  }
  return value;
}

function limitParam(value: string | undefined): number {
  return value === undefined
    ? LIMIT_DEFAULT
    : parseIntegerParam(value, 'limit', 1, STACK_LIST_LIMIT_MAX);
}
