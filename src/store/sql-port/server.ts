// The embedded SQL port: a TCP server on the loopback interface that lets psql (or any PostgreSQL
// client) read the embedded database while the processor or node runs on it. Each connection is
// a `SqlSession`; every query takes one turn of the database's lock (docs/decisions/0010).

import { createServer, type Socket } from 'node:net';
import type { Sql } from '../types.js';
import { ensureReaderRole, SQL_READER_ROLE } from './reader-role.js';
import {
  type ReadOnlyTurns,
  SESSION_LIMITS_DEFAULT,
  type SessionEvents,
  type SessionLimits,
  SqlSession,
} from './session.js';
import { errorResponse } from './wire.js';

/** The port listens here and nowhere else: it has no password. */
export const SQL_PORT_HOST = '127.0.0.1';
export const SQL_SESSIONS_MAX_DEFAULT = 8;

export interface SqlPortOptions {
  readonly port: number;
  readonly sessionsMax?: number;
  readonly limits?: SessionLimits;
  readonly events?: SessionEvents;
}

export interface SqlPort {
  /** The port listened on (the one chosen when 0 was asked for). */
  readonly port: number;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

/** The settings a client learns at startup (ParameterStatus); the port always speaks UTF-8. */
const REPORTED_SETTINGS = [
  'server_version',
  'server_encoding',
  'DateStyle',
  'IntervalStyle',
  'TimeZone',
  'integer_datetimes',
  'standard_conforming_strings',
];

/**
 * Reads the reported settings from the database (once, when the port starts). Queries run as the
 * reader role, which is no superuser.
 */
async function reportedSettings(db: Sql): Promise<Map<string, string>> {
  const { rows } = await db.query<{ name: string; setting: string }>(
    `SELECT name, current_setting(name) AS setting FROM unnest($1::text[]) AS name`,
    [REPORTED_SETTINGS],
  );
  const settings = new Map(rows.map((r) => [r.name, r.setting]));
  settings.set('client_encoding', 'UTF8');
  settings.set('is_superuser', 'off');
  settings.set('session_authorization', SQL_READER_ROLE);
  return settings;
}

/** Resolves when the socket's write buffer is below its high-water mark, or it is closed. */
function drained(socket: Socket): Promise<void> {
  if (!socket.writableNeedDrain || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/**
 * Creates the reader role when missing, reads the settings clients are told, and listens on
 * SQL_PORT_HOST:port; rejects with the listen error (EADDRINUSE, ...).
 */
export async function startSqlPort(
  db: { readonly turns: ReadOnlyTurns; readonly sql: Sql },
  opts: SqlPortOptions,
): Promise<SqlPort> {
  await ensureReaderRole(db.sql);
  const settings = await reportedSettings(db.sql);
  const turns = db.turns;
  const sessionsMax = opts.sessionsMax ?? SQL_SESSIONS_MAX_DEFAULT;
  const sockets = new Map<Socket, SqlSession>();
  // Every connection, also a refused one whose client has not hung up yet: closing ends them all.
  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    // A client that vanishes (ECONNRESET) ends its session; the error needs a listener, no more.
    socket.on('error', () => undefined);
    if (sockets.size >= sessionsMax) {
      const refusal = errorResponse({
        code: '53300',
        message: `the embedded SQL port serves at most ${sessionsMax} connections at once`,
        severity: 'FATAL',
      });
      socket.end(refusal);
      return;
    }
    socket.setNoDelay(true);
    const limits = opts.limits ?? SESSION_LIMITS_DEFAULT;
    const session = new SqlSession(
      turns,
      settings,
      { write: (b) => socket.write(b), end: () => socket.end(), drained: () => drained(socket) },
      limits,
      opts.events ?? {},
    );
    sockets.set(socket, session);
    socket.on('data', (data) => {
      session.receive(data);
      // A client that sends faster than its queries run is not read from until they have.
      if (session.bufferedBytes > limits.messageBytesMax && !socket.isPaused()) {
        socket.pause();
        void session.settled().then(() => socket.resume());
      }
    });
    socket.on('close', () => {
      session.close();
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port, host: SQL_PORT_HOST, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Once listening, an error of the server (accepting a connection) is told, never thrown.
  server.on('error', (err) => opts.events?.onFailure?.(err));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  return {
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sockets.values()) session.close();
      for (const socket of connections) socket.destroy();
      await closed;
    },
  };
}
