// The API port is checked before a service creates anything (key, database, genesis): a port in
// use, one the user may not bind, or a host that is not an address of this machine is
// `port_unavailable`, naming host and port. The check binds the port and lets it go; the API binds
// it again at the end of the start, and a process that takes it in between is reported the same
// way (portUnavailable on the listen error).

import { createServer } from 'node:net';
import { ChainError } from '../core/errors.js';

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'another process listens on it',
  EACCES: 'this user may not bind it (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the host is not an address of this machine',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve',
};

/**
 * Resolves when `host:port` can be bound now; port 0 (any free port) always can. `option` is the
 * flag that chooses the port, named in the error.
 */
export async function checkPortFree(host: string, port: number, option = '--port'): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(portUnavailable(err, host, port, option) ?? err));
    server.listen({ port, host, exclusive: true }, () => resolve());
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The listen error as `port_unavailable`, or null when it is not one of the known reasons. */
export function portUnavailable(
  err: unknown,
  host: string,
  port: number,
  option = '--port',
): ChainError | null {
  const code = (err as NodeJS.ErrnoException).code;
  const reason = code === undefined ? undefined : REASONS[code];
  if (reason === undefined) return null;
  return new ChainError(
    'port_unavailable',
    `cannot listen on ${host}:${port}: ${reason} (${code}); choose another with ${option}`,
    { host, port, reason: code, option },
    { cause: err },
  );
}

/** Starts listening; a port taken since the check is `port_unavailable` too. */
export async function listenOrExplain(
  api: { listen(port: number, host: string): Promise<string> },
  port: number,
  host: string,
): Promise<string> {
  try {
    return await api.listen(port, host);
  } catch (err) {
    throw portUnavailable(err, host, port) ?? err;
  }
}
