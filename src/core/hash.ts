// The three hashes of the protocol. Double SHA-256 is used for every digest and checksum
// (Validana and Bitcoin habit); hash160 only for addresses.

import { createHash } from 'node:crypto';

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** SHA-256(SHA-256(data)). */
export function hash256(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}

/**
 * hash256 of several parts as if they were concatenated. Signing digests are prefix || slice of a
 * larger buffer; hashing the parts avoids copying transaction bytes on the verification hot path.
 */
export function hash256Parts(...parts: Uint8Array[]): Uint8Array {
  const inner = createHash('sha256');
  for (const p of parts) inner.update(p);
  return sha256(inner.digest());
}

/** RIPEMD-160(SHA-256(data)). */
export function hash160(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('ripemd160').update(sha256(data)).digest());
}
