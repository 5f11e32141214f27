// A store that fails the way a real database does, when the run's seed says so: a write refused,
// a commit that does not land, and the worst case, a commit that lands but whose answer is lost,
// so the caller cannot tell. Each failure is the transient error a dropped connection gives
// (code `retry`), which is what the processor and the mirror node must survive.
//
// Each incarnation of a process gets its own FaultyDatabase over the process's database (its
// disk). A crash severs it: later queries fail, and a transaction under way rolls back instead of
// committing, as it would when the process holding the connection dies.
//
// It also counts the operations under way: the simulation advances virtual time only when the
// store is idle, so how long the real database (embedded, in this process) takes never changes
// what happens in a run.

import { ChainError } from '../core/errors.js';
import type { Database, QueryResult, Sql } from '../store/types.js';
import type { StoreFaults } from './faults.js';
import type { Random } from './random.js';
import type { Trace } from './trace.js';

const WRITE_SQL = /^\s*(insert|update|delete|create|drop|alter|truncate)\b/i;

export interface StoreStats {
  writesFailed: number;
  commitsFailed: number;
  commitAnswersLost: number;
  commits: number;
}

export class FaultyDatabase implements Database {
  readonly kind: Database['kind'];
  /**
   * Called when a transaction is about to commit: the simulation may crash the process there
   * (sever this store), and the transaction then rolls back.
   */
  beforeCommit: (() => void) | null = null;
  private inFlight = 0;
  private started = 0;
  private severed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly counters: StoreStats = {
    writesFailed: 0,
    commitsFailed: 0,
    commitAnswersLost: 0,
    commits: 0,
  };

  constructor(
    private readonly inner: Database,
    private readonly random: Random,
    private faults: StoreFaults,
    private readonly trace: Trace,
    /** The trace's name for the process that owns this store. */
    private readonly owner: string,
    /**
     * A broken store, to show that the simulator's checks catch one: this share of the commits
     * is rolled back and yet reported as done. Never set in a normal run.
     */
    private readonly lyingShare = 0,
  ) {
    this.kind = inner.kind;
  }

  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<R>> {
    return this.track(() => this.faultyQuery<R>(this.inner, text, params));
  }

  transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.track(async () => {
      const lie = { value: undefined as T | undefined, told: false };
      const result = await this.inner
        .transaction(async (sql) => {
          const faulty: Sql = { query: (text, params) => this.faultyQuery(sql, text, params) };
          const value = await fn(faulty);
          this.beforeCommit?.();
          this.throwIfSevered();
          if (this.lyingShare > 0 && this.random.chance(this.lyingShare)) {
            lie.value = value;
            lie.told = true;
            this.trace.record(this.owner, 'store-lies', 'a rolled-back commit is reported as done');
            throw new ChainError('internal', 'rolled back by the lying store');
          }
          if (this.random.chance(this.faults.commitFailProbability)) {
            this.counters.commitsFailed++;
            this.trace.record(this.owner, 'store-commit-failed');
            throw new ChainError('retry', 'simulated store fault: the commit did not land');
          }
          return value;
        })
        .catch((err: unknown) => {
          if (lie.told) return lie.value as T;
          throw err;
        });
      this.counters.commits++;
      if (this.random.chance(this.faults.commitAnswerLostProbability)) {
        this.counters.commitAnswersLost++;
        this.trace.record(this.owner, 'store-commit-answer-lost');
        throw new ChainError(
          'retry',
          'simulated store fault: the connection dropped after the commit was sent',
        );
      }
      return result;
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** The process crashed: nothing it sent later reaches the database, nothing under way commits. */
  sever(): void {
    this.severed = true;
  }

  /** Ends the faults (a run's end); a severed store stays severed. */
  heal(healed: StoreFaults): void {
    this.faults = healed;
  }

  /** Operations started so far: the simulation waits until this stops moving. */
  get startedCount(): number {
    return this.started;
  }

  stats(): Readonly<StoreStats> {
    return { ...this.counters };
  }

  /** Resolves once no operation is under way. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  private async faultyQuery<R>(
    sql: Sql,
    text: string,
    params?: unknown[],
  ): Promise<QueryResult<R>> {
    this.throwIfSevered();
    if (WRITE_SQL.test(text) && this.random.chance(this.faults.writeFailProbability)) {
      this.counters.writesFailed++;
      this.trace.record(this.owner, 'store-write-failed', text.trim().split(/\s+/, 3).join(' '));
      throw new ChainError('retry', 'simulated store fault: a write failed');
    }
    return sql.query<R>(text, params);
  }

  private throwIfSevered(): void {
    if (this.severed)
      throw new ChainError('retry', `simulated crash: ${this.owner} lost its database connection`);
  }

  private async track<T>(op: () => Promise<T>): Promise<T> {
    this.started++;
    this.inFlight++;
    try {
      return await op();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }
}
