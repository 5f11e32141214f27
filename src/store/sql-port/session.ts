// One client connection of the embedded SQL port (docs/decisions/0010-sql-port.md). The port
// answers the startup itself (no password: it listens on the loopback interface only), then runs
// each simple query ('Q') that passes `checkStatement` through the embedded database's
// `readOnlyTurn`: Parse, Bind, Describe, Execute and Sync in a read-only transaction that is
// rolled back. What the database answers goes back as a simple query's answer (the extended
// protocol's own acknowledgements and its ReadyForQuery are left out). The extended protocol
// itself is refused, and the session never holds a transaction, so every ReadyForQuery says idle.

import { randomInt } from 'node:crypto';
import { checkStatement } from './statement.js';
import {
  authenticationOk,
  backendKeyData,
  CANCEL_REQUEST_CODE,
  errorResponse,
  extendedQuery,
  GSSENC_REQUEST_CODE,
  negotiateProtocolVersion,
  parameterStatus,
  PROTOCOL_3_0,
  queryText,
  readyForQuery,
  responseFields,
  type Split,
  splitTyped,
  splitUntyped,
  SSL_REQUEST_CODE,
  startupParameters,
  type TypedMessage,
  type UntypedMessage,
} from './wire.js';

/** What the embedded database offers the port (PgliteDatabase.readOnlyTurn). */
export interface ReadOnlyTurns {
  readOnlyTurn(messages: Uint8Array, onData: (chunk: Uint8Array) => void): Promise<void>;
}

export interface SessionLimits {
  /** Largest message a client may send (a query's text). */
  readonly messageBytesMax: number;
  /** Largest answer to one query; beyond it the rows stop and the query ends in an error. */
  readonly resultBytesMax: number;
}

export const SESSION_LIMITS_DEFAULT: SessionLimits = {
  messageBytesMax: 1024 * 1024,
  resultBytesMax: 64 * 1024 * 1024,
};
const STARTUP_BYTES_MAX = 10_000;

export interface SessionIo {
  write(bytes: Buffer): void;
  /** Resolves once what was written has mostly reached the client (or the connection is gone). */
  drained(): Promise<void>;
  /** Ends the connection after what was written. */
  end(): void;
}

export interface SessionEvents {
  /** A query the port refused before it reached the database (code, message). */
  onRefused?(code: string, message: string): void;
  /** Something failed that is not a query's fault (the database, the port); the connection concerned is closed. */
  onFailure?(err: unknown): void;
}

type SessionState = 'startup' | 'ready' | 'discarding' | 'closed';

const EXTENDED_PROTOCOL = new Set(['P', 'B', 'D', 'E', 'C', 'H']);
const SQLSTATE_FEATURE_NOT_SUPPORTED = '0A000';
const SQLSTATE_PROTOCOL_VIOLATION = '08P01';
const SQLSTATE_PROGRAM_LIMIT = '54000';

export class SqlSession {
  #state: SessionState = 'startup';
  #buffer: Buffer = Buffer.alloc(0);
  #work: Promise<void> = Promise.resolve();

  constructor(
    private readonly turns: ReadOnlyTurns,
    private readonly parameters: ReadonlyMap<string, string>,
    private readonly io: SessionIo,
    private readonly limits: SessionLimits = SESSION_LIMITS_DEFAULT,
    private readonly events: SessionEvents = {},
  ) {}

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Takes bytes from the client; messages are handled one after the other, in order. */
  receive(data: Buffer): void {
    if (this.#state === 'closed') return;
    this.#buffer = Buffer.concat([this.#buffer, data]);
    // A failure here is a bug of the port: it ends this connection, never the service.
    this.#work = this.#work
      .then(() => this.#drain())
      .catch((err: unknown) => {
        this.events.onFailure?.(err);
        this.#fatal('XX000', `the embedded SQL port failed: ${describe(err)}`);
      });
  }

  /** The connection is gone: nothing more is written. */
  close(): void {
    this.#state = 'closed';
    this.#buffer = Buffer.alloc(0);
  }

  /** Resolves when every message received so far has been handled. */
  settled(): Promise<void> {
    return this.#work;
  }

  /** Bytes received and not yet handled. */
  get bufferedBytes(): number {
    return this.#buffer.length;
  }

  async #drain(): Promise<void> {
    while (this.#state !== 'closed') {
      const split: Split<UntypedMessage | TypedMessage> =
        this.#state === 'startup'
          ? splitUntyped(this.#buffer, STARTUP_BYTES_MAX)
          : splitTyped(this.#buffer, this.limits.messageBytesMax);
      if (split.kind === 'incomplete') return;
      if (split.kind === 'too_large') {
        this.#fatal(
          SQLSTATE_PROGRAM_LIMIT,
          `a message of ${split.lengthBytes} bytes is larger than the embedded SQL port accepts (${this.limits.messageBytesMax})`,
        );
        return;
      }
      this.#buffer = split.rest;
      if ('code' in split.message) this.#startup(split.message);
      else await this.#typed(split.message);
    }
  }

  #startup(m: UntypedMessage): void {
    if (m.code === SSL_REQUEST_CODE || m.code === GSSENC_REQUEST_CODE) {
      this.io.write(Buffer.from('N', 'latin1')); // no encryption on the loopback port
      return;
    }
    if (m.code === CANCEL_REQUEST_CODE) {
      // A query holds the database until it ends: there is nothing to cancel.
      this.#end();
      return;
    }
    if (m.code >>> 16 !== PROTOCOL_3_0 >>> 16) {
      this.#fatal(
        SQLSTATE_FEATURE_NOT_SUPPORTED,
        `protocol ${m.code >>> 16}.${m.code & 0xffff} is not supported; the embedded SQL port speaks 3.0`,
      );
      return;
    }
    const params = startupParameters(m.body);
    const out: Buffer[] = [];
    if ((m.code & 0xffff) !== 0) {
      const options = [...params.keys()].filter((k) => k.startsWith('_pq_.'));
      out.push(negotiateProtocolVersion(0, options));
    }
    out.push(authenticationOk());
    for (const [name, value] of this.parameters) out.push(parameterStatus(name, value));
    out.push(parameterStatus('application_name', params.get('application_name') ?? ''));
    out.push(backendKeyData(randomInt(1, 2 ** 31), randomInt(0, 2 ** 31)), readyForQuery());
    this.io.write(Buffer.concat(out));
    this.#state = 'ready';
  }

  async #typed(m: TypedMessage): Promise<void> {
    if (m.type === 'X') {
      this.#end();
      return;
    }
    if (this.#state === 'discarding') {
      if (m.type === 'S') {
        this.#state = 'ready';
        this.io.write(readyForQuery());
      }
      return;
    }
    if (m.type === 'Q') return this.#query(queryText(m.body));
    if (m.type === 'S') {
      this.io.write(readyForQuery());
      return;
    }
    if (EXTENDED_PROTOCOL.has(m.type) || m.type === 'F') {
      // After an error in the extended protocol a server skips to the next Sync; a function call
      // is answered at once.
      this.io.write(
        errorResponse({
          code: SQLSTATE_FEATURE_NOT_SUPPORTED,
          message:
            'the embedded SQL port accepts simple queries only (not the extended protocol: psql \\bind, \\parse)',
        }),
      );
      if (m.type === 'F') this.io.write(readyForQuery());
      else this.#state = 'discarding';
      return;
    }
    this.#fatal(SQLSTATE_PROTOCOL_VIOLATION, `unexpected message type ${JSON.stringify(m.type)}`);
  }

  async #query(text: string): Promise<void> {
    const check = checkStatement(text);
    if (!check.ok) {
      this.events.onRefused?.(check.code, check.message);
      this.io.write(
        Buffer.concat([
          errorResponse({ code: check.code, message: check.message }),
          readyForQuery(),
        ]),
      );
      return;
    }
    // A client that does not read its answers gets no further query run until it does.
    await this.io.drained();
    if (this.closed) return;
    const answer = new AnswerFilter(this.limits.resultBytesMax, (bytes) => {
      if (this.#state !== 'closed') this.io.write(bytes);
    });
    try {
      await this.turns.readOnlyTurn(extendedQuery(text), (chunk) => answer.take(chunk));
    } catch (err) {
      this.events.onFailure?.(err);
      const stopping = (err as { code?: unknown }).code === 'shutting_down';
      this.#fatal(
        stopping ? '57P01' : 'XX000',
        stopping
          ? 'the service is stopping; the embedded SQL port closes'
          : `the embedded database failed: ${describe(err)}`,
      );
      return;
    }
    // The connection may have gone while the query ran (the state changes across the await).
    if (this.closed) return;
    this.io.write(readyForQuery());
  }

  #fatal(code: string, message: string): void {
    if (this.#state === 'closed') return;
    this.io.write(errorResponse({ code, message, severity: 'FATAL' }));
    this.#end();
  }

  #end(): void {
    this.#state = 'closed';
    this.#buffer = Buffer.alloc(0);
    this.io.end();
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Messages of the extended protocol that a simple query's answer does not have. */
const LEFT_OUT = new Set(['1', '2', '3', 'n', 't', 's', 'Z', 'S', 'A']);

/**
 * Turns the database's answer to the extended-protocol messages into a simple query's answer,
 * passing rows on as they come, until `resultBytesMax`: then the rows stop and the answer ends in
 * an error instead of its CommandComplete.
 */
class AnswerFilter {
  #pending: Buffer = Buffer.alloc(0);
  #bytes = 0;
  #cut = false;

  constructor(
    private readonly resultBytesMax: number,
    private readonly send: (bytes: Buffer) => void,
  ) {}

  take(chunk: Uint8Array): void {
    this.#pending = Buffer.concat([this.#pending, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const split = splitTyped(this.#pending, Number.MAX_SAFE_INTEGER);
      if (split.kind !== 'message') break;
      const whole = this.#pending.subarray(0, this.#pending.length - split.rest.length);
      this.#pending = split.rest;
      const kept = this.#keep(split.message, whole);
      if (kept !== null) out.push(kept);
    }
    if (out.length > 0) this.send(Buffer.concat(out));
  }

  #keep(m: TypedMessage, whole: Buffer): Buffer | null {
    if (LEFT_OUT.has(m.type)) return null;
    if (m.type === 'D' || m.type === 'd') {
      this.#bytes += whole.length;
      if (this.#bytes > this.resultBytesMax) this.#cut = true;
      return this.#cut ? null : whole;
    }
    if (m.type === 'C' && this.#cut) {
      return errorResponse({
        code: SQLSTATE_PROGRAM_LIMIT,
        message: `the result is larger than the embedded SQL port sends (${this.resultBytesMax} bytes); narrow the query or add LIMIT`,
      });
    }
    if (m.type === 'E') return explainedError(m.body) ?? whole;
    return whole;
  }
}

/** The database's own error, reworded where its words would not make sense to the client. */
function explainedError(body: Buffer): Buffer | null {
  const fields = responseFields(body);
  const code = fields.get('C');
  if (code === '42601' && fields.get('M')?.startsWith('cannot insert multiple commands') === true) {
    return errorResponse({
      code,
      message: 'the embedded SQL port runs one statement per query; send them one at a time',
    });
  }
  if (code === '25006') {
    return errorResponse({
      code,
      message: fields.get('M') ?? 'read-only transaction',
      hint: 'the embedded SQL port is read-only: every query runs in a read-only transaction',
    });
  }
  return null;
}
