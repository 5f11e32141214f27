// The JSON shapes of the energy market's reads (docs/api.md "Energy"): what the API routes send,
// what the energy client returns, what the CLI prints. Types only, so the client can use them
// without pulling in the SQL side (src/energy/queries.ts).

/** One balance: a trader's energy of one settlement period with exactly one label set. */
export interface EnergyBalanceView {
  readonly trader: string;
  /** The period's first block: what Transfer, Reduce and Mutate name as `block`. */
  readonly block: number;
  /** The period's start, ISO 8601 UTC. */
  readonly periodStart: string;
  readonly periodStartMs: number;
  /** The canonical label set ([] is unlabelled energy). */
  readonly labels: string[];
  /** Exact kWh, e.g. "10", "-0.125"; never "0" (a balance of zero does not exist). */
  readonly amount: string;
}

export interface EnergyTraderTotal {
  readonly trader: string;
  /** The sum of the trader's matching balances, exact kWh. */
  readonly amount: string;
  /** How many balances make up the sum. */
  readonly balances: number;
}

export interface EnergyBalanceFilter {
  readonly trader?: string;
  /** Balances carrying every one of these labels (canonical, non-empty). */
  readonly labels?: readonly string[];
  /** The period, by its first block. */
  readonly block?: number;
  /** Most balances listed (default 1000, at most 10000); totals always cover every match. */
  readonly limit?: number;
}

export interface EnergyBalancesView {
  readonly context: string;
  readonly filter: {
    readonly trader: string | null;
    readonly labels: string[] | null;
    readonly block: number | null;
  };
  /** Ordered by trader, block, label set. */
  readonly balances: EnergyBalanceView[];
  /** True when more balances match than `limit` allowed to list (the totals still count them all). */
  readonly truncated: boolean;
  /** Per trader, ordered by trader, over every matching balance. */
  readonly totals: EnergyTraderTotal[];
  /** The sum of every matching balance, exact kWh. */
  readonly total: string;
}

export type EnergyRole = 'owner' | 'trader' | 'producer' | 'consumer';

export interface EnergyDeviceView {
  readonly address: string;
  /** The trader whose balance the device's energy goes to (or comes from). */
  readonly trader: string;
  /** The labels the owner gave the device. */
  readonly labels: string[];
}

export interface EnergyPeriodView {
  /** The period's first block. */
  readonly block: number;
  readonly start: string;
  readonly startMs: number;
  /** Exclusive. For a per-block period (periodSeconds 0) it is the block time + 1 ms. */
  readonly end: string;
  readonly endMs: number;
  readonly periodSeconds: number;
}

/** The local market's settings (Market). */
export interface MarketSettingsView {
  readonly on: boolean;
  readonly periodSeconds: number;
  readonly gateClosureSeconds: number;
  readonly auction: boolean;
  readonly allocation: boolean;
  /** The block that set them last. */
  readonly changedHeight: number;
}

export interface EnergyContextView {
  readonly context: string;
  /** The holder of the context address key: the context address itself. */
  readonly owner: string;
  readonly settlementPeriod: {
    /** The length set last (0: every block is its own period, the default). */
    readonly periodSeconds: number;
    /** The block from which `periodSeconds` applies (null: never set). */
    readonly fromHeight: number | null;
    /** The length that applied before `fromHeight`. */
    readonly previousPeriodSeconds: number;
  };
  /** The local market's settings (Market); null when it was never turned on. */
  readonly market: MarketSettingsView | null;
  /** The most recently opened period, in which energy of the next blocks may still land; null before any energy. */
  readonly latestPeriod: EnergyPeriodView | null;
  /** Ordered by address. */
  readonly traders: { readonly address: string; readonly addedHeight: number }[];
  readonly producers: EnergyDeviceView[];
  readonly consumers: EnergyDeviceView[];
  /** Every address with a role in the context, ordered by address (the owner included). */
  readonly members: { readonly address: string; readonly roles: EnergyRole[] }[];
}

export type EnergyHistoryKind = 'energy' | 'transfer' | 'reduce' | 'mutate' | 'removal';

export interface EnergyHistoryEntry {
  readonly txId: string;
  /** The entry's number within its transaction (a Reduce changes two balances of the trader). */
  readonly seq: number;
  /** The block the transaction is in, and its time. */
  readonly height: number;
  readonly processedAt: string;
  readonly processedMs: number;
  /** energy, transfer, reduce, mutate or removal (EnergyHistoryKind). */
  readonly kind: string;
  /** The period of the balance that changed, by its first block, and its start. */
  readonly block: number;
  readonly periodStart: string;
  readonly periodStartMs: number;
  readonly labels: string[];
  /** The change, exact kWh (negative: energy left the balance). */
  readonly amount: string;
  /** The device (energy), the other trader (transfer) or the owner (mutate); null otherwise. */
  readonly counterparty: string | null;
  readonly description: string | null;
}

export interface EnergyHistoryPage {
  readonly limit?: number;
  /** A cursor: a block height (entries of earlier blocks), or the `next` of a previous page. */
  readonly before?: HistoryCursor;
}

export interface HistoryCursor {
  readonly height: number;
  /** With txId and seq: the last entry of the previous page (the page goes on after it). */
  readonly txId?: string;
  readonly seq?: number;
}

export interface EnergyHistoryView {
  readonly context: string;
  readonly trader: string;
  /** Newest first: by block height descending, then transaction id and seq ascending. */
  readonly entries: EnergyHistoryEntry[];
  /** Pass as `before` for the next page; null when there is none. */
  readonly next: string | null;
}

/** One accepted Producer or Consumer transaction that named a device. */
export interface DeviceRegistrationView {
  readonly txId: string;
  readonly role: 'producer' | 'consumer';
  /** false: the registration was removed from this block on. */
  readonly allowed: boolean;
  /** The trader its energy goes to from this block on; null when removed. */
  readonly trader: string | null;
  readonly labels: string[];
  readonly height: number;
  readonly processedMs: number;
}

export interface DeviceRegistrationsView {
  readonly context: string;
  readonly address: string;
  /** Oldest first (block height, then position in the block). */
  readonly registrations: DeviceRegistrationView[];
  /** More than 10,000 registrations: only the oldest are listed. */
  readonly truncated: boolean;
}

/** One accepted Energy transaction of a device, with the meter reading it carried. */
export interface DeviceReadingView {
  readonly txId: string;
  readonly height: number;
  readonly processedMs: number;
  /** Exact kWh: positive production, negative consumption. */
  readonly amount: string;
  /** The meter register after the reading, exact kWh; null without a reading. */
  readonly register: string | null;
  readonly readingMs: number | null;
  readonly sinceMs: number | null;
}

export interface DeviceReadingsView {
  readonly context: string;
  readonly address: string;
  readonly fromMs: number;
  /** Oldest first. */
  readonly readings: DeviceReadingView[];
  /** More than 10,000 match: ask again from the last one's processedMs. */
  readonly truncated: boolean;
}

/**
 * A market statement's figures (GET .../market/statements and .../market/figures, docs/api.md).
 */
// Energy in kWh and money in EUR, as exact decimal strings.
export interface StatementFigures {
  readonly producedKwh: string;
  readonly consumedKwh: string;
  readonly ownUseKwh: string;
  readonly boughtKwh: string;
  readonly boughtEur: string;
  readonly soldKwh: string;
  readonly soldEur: string;
  readonly suppliedKwh: string;
  readonly suppliedEur: string;
  readonly exportedKwh: string;
  readonly exportedEur: string;
  readonly lateKwh: string;
  readonly imbalanceKwh: string;
  readonly imbalanceEur: string;
  /** Corrections of earlier periods settled here (MarketCorrection), production positive. */
  readonly correctedKwh: string;
  /** Their settlement: kWh received (supplied) positive, given (exported) negative. */
  readonly correctionKwh: string;
  readonly correctionEur: string;
  /** What the trader owes for the period; negative: what it is owed. */
  readonly dueEur: string;
}
