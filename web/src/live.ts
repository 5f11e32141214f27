// What the page knows about the chain right now, kept up to date by the block feed: the node's
// info (and its alarm), the latest blocks, the mirror nodes' health where the server lists them,
// the contexts seen in blocks, and counters the views watch to reload after a settlement.

import { useEffect, useState } from 'preact/hooks';
import { api, type MirrorStatus } from './api.js';
import { BlockFeed, type FeedState } from './feed.js';
import type { BlockView, ChainInfo } from './types.js';

export const RECENT_BLOCKS_MAX = 30;
/** Blocks read at start to find the contexts (the owner sends Trader calls, so it is the sender). */
const DISCOVERY_PAGES_MAX = 2;
const PAGE_BLOCKS = 200;
const SETTLING_TYPES = new Set(['SettlePeriod', 'UpstreamSettlement', 'MarketCorrection']);
const MARKET_TYPES = new Set(['Order', 'CancelOrder', 'Market', 'MarketPrices', ...SETTLING_TYPES]);

export interface Live {
  readonly info: ChainInfo | null;
  readonly infoError: string | null;
  readonly feed: FeedState;
  readonly blocks: readonly BlockView[];
  /** null: the server lists no mirror nodes (no /api/mirrors). */
  readonly mirrors: readonly MirrorStatus[] | null;
  readonly contexts: readonly string[];
  /** Changes when a block settles something: figures, statements and flows may have changed. */
  readonly settled: number;
  /** Changes when a block touches the market (orders, prices, settlement). */
  readonly market: number;
}

const feed = new BlockFeed();

function contextsIn(blocks: readonly BlockView[], into: Set<string>): void {
  for (const b of blocks)
    for (const tx of b.transactions)
      if (tx.contractType === 'Trader' && tx.status === 'accepted' && tx.sender !== null)
        into.add(tx.sender);
}

/** `discover`: read the first blocks to find the contexts (not needed when the page names one). */
export function useLive(discover: boolean): Live {
  const [live, setLive] = useState<Live>({
    info: null,
    infoError: null,
    feed: feed.state,
    blocks: [],
    mirrors: null,
    contexts: [],
    settled: 0,
    market: 0,
  });
  useEffect(() => {
    let mirrorsListed = true;
    const seen = new Set<string>();
    const refresh = async (): Promise<void> => {
      try {
        const info = await api.info();
        setLive((l) => ({ ...l, info, infoError: null }));
      } catch (err) {
        setLive((l) => ({ ...l, infoError: String((err as Error).message) }));
      }
      if (!mirrorsListed) return;
      const answer = await api.mirrors();
      if (answer === null) mirrorsListed = false;
      else setLive((l) => ({ ...l, mirrors: answer.mirrors }));
    };
    const readBlocks = async (): Promise<void> => {
      const info = await api.info();
      const head = info.head?.height ?? 0;
      const recent = await api.blocks(Math.max(0, head - RECENT_BLOCKS_MAX + 1), RECENT_BLOCKS_MAX);
      setLive((l) => ({
        ...l,
        blocks: [...recent.reverse(), ...l.blocks]
          .filter((b, i, all) => all.findIndex((o) => o.height === b.height) === i)
          .sort((a, b) => b.height - a.height)
          .slice(0, RECENT_BLOCKS_MAX),
      }));
      for (let page = 0; discover && page < DISCOVERY_PAGES_MAX; page++) {
        const blocks = await api.blocks(page * PAGE_BLOCKS, PAGE_BLOCKS);
        contextsIn(blocks, seen);
        if (blocks.length < PAGE_BLOCKS) break;
      }
      setLive((l) => ({ ...l, contexts: [...seen] }));
    };
    const report = (what: string) => (err: unknown) => console.warn(what, err);
    refresh().catch(report('reading /api/info failed'));
    readBlocks().catch(report('reading the blocks failed'));
    const offBlock = feed.onBlock((block) => {
      const types = block.transactions.map((t) => t.contractType ?? '');
      const before = seen.size;
      contextsIn([block], seen);
      setLive((l) => ({
        ...l,
        blocks: [block, ...l.blocks.filter((b) => b.height < block.height)].slice(
          0,
          RECENT_BLOCKS_MAX,
        ),
        contexts: seen.size === before ? l.contexts : [...seen],
        settled: types.some((t) => SETTLING_TYPES.has(t)) ? l.settled + 1 : l.settled,
        market: types.some((t) => MARKET_TYPES.has(t)) ? l.market + 1 : l.market,
      }));
      refresh().catch(report('reading /api/info failed'));
    });
    const offState = feed.onState((state) => {
      setLive((l) => ({ ...l, feed: state }));
      // Subscribed: anything that happened before (an alarm, blocks) is read once more.
      if (state === 'live') refresh().catch(report('reading /api/info failed'));
    });
    const offAlarm = feed.onAlarm((alarm) =>
      setLive((l) => (l.info === null ? l : { ...l, info: { ...l.info, alarm } })),
    );
    feed.start();
    return () => {
      offBlock();
      offState();
      offAlarm();
    };
  }, [discover]);
  return live;
}
