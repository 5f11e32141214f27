// What the P1 gateway keeps on disk (docs/meter.md, "Idempotency"): per meter the last accepted
// telegram and, per direction, the register the next reading advances from; and the outbox of
// readings that are not confirmed on chain yet. The file is replaced atomically (write a temporary
// file, fsync it, rename it over the old one, fsync the folder), so after a crash it holds either
// the old or the new state, never a mix. A reading enters the outbox, and is written to disk,
// before its transaction is sent.

import { createHash } from 'node:crypto';
import { open, mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ChainError } from '../../core/errors.js';

export type Direction = 'delivered' | 'returned';

export const DIRECTIONS: readonly Direction[] = ['delivered', 'returned'];

/** The four registers as decimal Wh strings (JSON has no bigint). */
export interface RegistersText {
  readonly deliveredTariff1: string;
  readonly deliveredTariff2: string;
  readonly returnedTariff1: string;
  readonly returnedTariff2: string;
}

export interface StreamState {
  /** The register the next reading advances from, Wh. */
  registerWh: string;
  /** The latest time the register is known to have stood at registerWh (a cut or the baseline). */
  sinceMs: number;
  /** Time of the last reading put in the outbox (or found on chain); null before the first. */
  readingMs: number | null;
}

export interface MeterState {
  readonly equipmentId: string;
  /** The last accepted telegram (for the limits after a restart); null before the first. */
  last: { timestampMs: number; registers: RegistersText } | null;
  /** Time of the last cut (or of the baseline telegram). */
  lastCutMs: number | null;
  telegramsSinceCut: number;
  /** Null until the first telegram sets the baseline. */
  streams: { delivered: StreamState; returned: StreamState } | null;
}

/** One reading waiting to be confirmed on chain: an Energy transaction of one device. */
export interface OutboxEntry {
  readonly seq: number;
  readonly meter: string;
  readonly direction: Direction;
  /** The producer (returned) or consumer (delivered) address that signs it. */
  readonly device: string;
  /** The register's advance, Wh, positive (the payload's amount is negative for consumption). */
  amountWh: string;
  registerWh: string;
  readingMs: number;
  sinceMs: number;
  /** Bumped whenever the reading must be signed again under a new id. */
  attempt: number;
  txId: string;
  /** The signed transaction, base64; null until the chain id and contract are known. */
  tx: string | null;
  readonly createdMs: number;
}

export interface GatewayState {
  readonly version: 1;
  readonly context: string;
  chainId: string | null;
  energyContractHash: string | null;
  nextSeq: number;
  meters: Record<string, MeterState>;
  outbox: OutboxEntry[];
}

const STATE_FILE = 'state.json';

export function emptyState(context: string): GatewayState {
  return {
    version: 1,
    context,
    chainId: null,
    energyContractHash: null,
    nextSeq: 1,
    meters: {},
    outbox: [],
  };
}

export function emptyMeter(equipmentId: string): MeterState {
  return { equipmentId, last: null, lastCutMs: null, telegramsSinceCut: 0, streams: null };
}

/**
 * The id of a reading's transaction: derived from what it records, so a gateway that lost its
 * state and cuts the same reading again produces the same id (refused as tx_duplicate_id).
 */
export function readingTxId(
  context: string,
  device: string,
  direction: Direction,
  registerWh: string,
  readingMs: number,
  attempt: number,
): string {
  const text = `hanzenet p1 reading|${context}|${device}|${direction}|${registerWh}|${readingMs}|${attempt}`;
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export async function loadState(dir: string, context: string): Promise<GatewayState> {
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState(context);
    throw new ChainError(
      'gateway_state_invalid',
      `cannot read ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ChainError(
      'gateway_state_invalid',
      `${path} is not JSON: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  const s = parsed as Partial<GatewayState>;
  if (
    typeof s !== 'object' ||
    s === null ||
    s.version !== 1 ||
    !Array.isArray(s.outbox) ||
    typeof s.meters !== 'object' ||
    s.meters === null
  ) {
    throw new ChainError('gateway_state_invalid', `${path} is not a version 1 gateway state`, {
      path,
    });
  }
  if (s.context !== context) {
    const message = `${path} belongs to context ${String(s.context)}, the config names ${context}; use another stateDir`;
    throw new ChainError('gateway_state_invalid', message, {
      path,
      stateContext: String(s.context),
      context,
    });
  }
  return parsed as GatewayState;
}

/** Writes the state atomically: temporary file, fsync, rename, fsync of the folder. */
export async function saveState(dir: string, state: GatewayState): Promise<void> {
  await writeFileAtomic(dir, STATE_FILE, JSON.stringify(state));
}

export async function writeFileAtomic(dir: string, name: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  const tmp = `${path}.${process.pid}.tmp`;
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(text, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/**
 * Serialises saves: `save()` resolves once a snapshot taken at or after the call is on disk.
 * Concurrent calls share one write. `onSaved` gets the snapshot's outbox as it was written, so the
 * sender knows which signed transactions are safely on disk.
 */
export class StateSaver {
  private writing: Promise<void> | null = null;
  private again = false;
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];

  constructor(
    private readonly dir: string,
    private readonly state: GatewayState,
    private readonly onSaved: (outbox: readonly OutboxEntry[]) => void,
  ) {}

  save(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.writing === null) this.writing = this.loop();
    else this.again = true;
    return done;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const waiters = this.waiters;
      this.waiters = [];
      const text = JSON.stringify(this.state);
      const outbox = (JSON.parse(text) as GatewayState).outbox;
      try {
        await writeFileAtomic(this.dir, STATE_FILE, text);
        this.onSaved(outbox);
        for (const w of waiters) w.resolve();
      } catch (err) {
        const failure = new ChainError(
          'gateway_state_invalid',
          `cannot write the gateway state in ${this.dir}: ${(err as Error).message}`,
          { dir: this.dir },
          { cause: err },
        );
        for (const w of waiters) w.reject(failure);
      }
    } while (this.again || this.waiters.length > 0);
    this.writing = null;
  }
}
