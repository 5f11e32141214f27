// The JSON shapes the dashboard reads (docs/api.md). The chain's and the energy context's views are
// the server's own types (type-only imports: nothing of src/ reaches the bundle); the rest of the
// market's answers are restated here because their modules on the server also hold SQL.

export type {
  BlockTxSummary,
  BlockView,
  ChainAlarm,
  ChainInfo,
  MirrorStatusView,
  TxView,
} from '../../src/chain/views.js';
import type { StatementFigures } from '../../src/energy/views.js';

export type {
  EnergyContextView,
  MarketSettingsView,
  StatementFigures,
} from '../../src/energy/views.js';

/** One statement of `market/statements`: per period (`periodStartMs`) or grouped (`group`). */
export interface Statement extends StatementFigures {
  readonly trader: string;
  readonly periodStartMs?: number;
  readonly group?: string;
  readonly startMs?: number;
  readonly endMs?: number;
  readonly periods?: number;
}

export interface StatementsAnswer {
  readonly statements: Statement[];
  readonly totals: StatementFigures;
  readonly truncated: boolean;
  readonly nextFromMs?: number | null;
}

export interface PriceRange {
  readonly minEurPerKwh: string;
  readonly avgEurPerKwh: string;
  readonly maxEurPerKwh: string;
}

export interface FiguresGroup extends StatementFigures {
  readonly group: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly periods: number;
  readonly selfSufficiency: string | null;
  readonly selfConsumption: string | null;
  readonly peakImport: { readonly kwh: string; readonly periodStartMs: number } | null;
  readonly prices: {
    readonly local: PriceRange | null;
    readonly supply: PriceRange | null;
    readonly feedIn: PriceRange | null;
  };
}

export interface FiguresAnswer {
  readonly groups: FiguresGroup[];
  readonly totals: Omit<FiguresGroup, 'group' | 'startMs' | 'endMs'>;
  readonly truncated: boolean;
  readonly nextFromMs: number | null;
}

export interface PricesAnswer {
  readonly market: {
    readonly on: boolean;
    readonly periodSeconds: number;
    readonly gateClosureSeconds: number;
    readonly auction: boolean;
    readonly allocation: boolean;
  } | null;
  readonly prices: {
    readonly periodStartMs: number;
    readonly localEurPerKwh: string;
    readonly supplyEurPerKwh: string;
    readonly feedInEurPerKwh: string;
  }[];
  readonly truncated: boolean;
}

/** One flow of a settled period between two traders, or between a trader and the outside. */
export interface Flow {
  readonly kind: string;
  /** `local`, `external` or `upstream` (the parent market). */
  readonly scope?: string;
  /** A trader, or null for the outside (supplier, grid, parent market). */
  readonly seller: string | null;
  readonly buyer: string | null;
  readonly labels: readonly string[];
  readonly kwh: string;
  readonly priceEur?: string;
}

/** An order of the book (GET .../market/orders). */
export interface Order {
  readonly id: string;
  readonly trader: string;
  readonly side: 'buy' | 'sell';
  readonly priceEurPerKwh: string;
  /** null: the trader's whole position. */
  readonly kwh: string | null;
  readonly labels: readonly string[];
  readonly standing: boolean;
  readonly state: string;
}

export interface OrderBook {
  readonly periodStartMs: number;
  readonly periodEndMs: number;
  readonly settled: boolean;
  readonly orders: Order[];
  readonly complete: boolean;
  readonly truncated: boolean;
  readonly clearing: {
    readonly classes: { labels: readonly string[]; priceEurPerKwh: string; kwh: string }[];
    readonly kwh: string;
  } | null;
}

/** A member of a city's market (a neighbourhood on a child chain). */
export interface StackMember {
  readonly member: string;
  readonly chain: string;
  readonly childContext: string;
  readonly processor: string;
  readonly lastPeriodMs: number | null;
}

export interface StackPosition {
  readonly member: string;
  readonly periodStartMs: number;
  readonly producedKwh: string;
  readonly consumedKwh: string;
}

export interface StackFlows {
  readonly member: string;
  readonly periodStartMs: number;
  readonly settled: boolean;
  readonly flows: {
    readonly kind: string;
    readonly seller: string;
    readonly buyer: string;
    readonly labels: readonly string[];
    readonly kwh: string;
    readonly priceEur: string;
  }[];
}

/** A household's position on the schematic map (0..10000 both ways). */
export interface Place {
  readonly member: string;
  readonly x: number;
  readonly y: number;
  readonly label: string | null;
}
