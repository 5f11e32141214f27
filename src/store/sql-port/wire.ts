// The PostgreSQL wire protocol (version 3.0) as far as the embedded SQL port needs it: splitting
// what a client sends into messages, the few messages the port writes itself, and the messages
// the embedded database answers a query with. Nothing here does I/O.
// Reference: https://www.postgresql.org/docs/current/protocol-message-formats.html

/** The startup packet's protocol field: 3.0. Other requests use the same place for a code. */
export const PROTOCOL_3_0 = 196_608;
export const SSL_REQUEST_CODE = 80_877_103;
export const GSSENC_REQUEST_CODE = 80_877_104;
export const CANCEL_REQUEST_CODE = 80_877_102;

/** A message a client sends before its startup completes: it has no type byte. */
export interface UntypedMessage {
  readonly code: number;
  readonly body: Buffer;
}

/** A typed message: one byte of type, the rest its body. */
export interface TypedMessage {
  readonly type: string;
  readonly body: Buffer;
}

export type Split<M> =
  | { readonly kind: 'message'; readonly message: M; readonly rest: Buffer }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'too_large'; readonly lengthBytes: number };

/** The first untyped message in `buf` (length, code, body), if it is complete. */
export function splitUntyped(buf: Buffer, lengthBytesMax: number): Split<UntypedMessage> {
  if (buf.length < 8) return { kind: 'incomplete' };
  const length = buf.readInt32BE(0);
  if (length < 8 || length > lengthBytesMax) return { kind: 'too_large', lengthBytes: length };
  if (buf.length < length) return { kind: 'incomplete' };
  return {
    kind: 'message',
    message: { code: buf.readInt32BE(4), body: buf.subarray(8, length) },
    rest: buf.subarray(length),
  };
}

/** The first typed message in `buf`, if it is complete. */
export function splitTyped(buf: Buffer, lengthBytesMax: number): Split<TypedMessage> {
  if (buf.length < 5) return { kind: 'incomplete' };
  const length = buf.readInt32BE(1);
  if (length < 4 || length > lengthBytesMax) return { kind: 'too_large', lengthBytes: length };
  if (buf.length < 1 + length) return { kind: 'incomplete' };
  return {
    kind: 'message',
    message: { type: String.fromCharCode(buf[0] ?? 0), body: buf.subarray(5, 1 + length) },
    rest: buf.subarray(1 + length),
  };
}

/** The zero-terminated strings of a body, in order (a startup packet's keys and values). */
export function cStrings(body: Buffer): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== 0) continue;
    if (i > start) out.push(body.toString('utf8', start, i));
    start = i + 1;
  }
  return out;
}

/** The parameters of a startup packet (user, database, application_name, ...). */
export function startupParameters(body: Buffer): Map<string, string> {
  const strings = cStrings(body);
  const params = new Map<string, string>();
  for (let i = 0; i + 1 < strings.length; i += 2)
    params.set(strings[i] ?? '', strings[i + 1] ?? '');
  return params;
}

/** The query text of a Query ('Q') message. */
export function queryText(body: Buffer): string {
  const end = body.indexOf(0);
  return body.toString('utf8', 0, end === -1 ? body.length : end);
}

function cString(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, 'utf8'), Buffer.of(0)]);
}

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
}

function int16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(value);
  return b;
}

/** One typed message: type byte, length, body. */
export function message(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(type, 'latin1'), int32(4 + body.length), body]);
}

export function authenticationOk(): Buffer {
  return message('R', int32(0));
}

export function parameterStatus(name: string, value: string): Buffer {
  return message('S', cString(name), cString(value));
}

export function backendKeyData(processId: number, secretKey: number): Buffer {
  return message('K', int32(processId), int32(secretKey));
}

/** ReadyForQuery; the port never leaves a transaction open, so it is always idle ('I'). */
export function readyForQuery(): Buffer {
  return message('Z', Buffer.from('I', 'latin1'));
}

/** NegotiateProtocolVersion: the port speaks 3.0 to a client that asked for a newer 3.x. */
export function negotiateProtocolVersion(minorSupported: number, unknownOptions: string[]): Buffer {
  return message(
    'v',
    int32(0x0003_0000 + minorSupported),
    int32(unknownOptions.length),
    ...unknownOptions.map(cString),
  );
}

export interface ErrorFields {
  /** SQLSTATE, five characters. */
  readonly code: string;
  readonly message: string;
  readonly hint?: string | undefined;
  /** ERROR unless said otherwise; FATAL closes the connection. */
  readonly severity?: 'ERROR' | 'FATAL';
}

export function errorResponse(e: ErrorFields): Buffer {
  const severity = e.severity ?? 'ERROR';
  const fields = [
    Buffer.from('S', 'latin1'),
    cString(severity),
    Buffer.from('V', 'latin1'),
    cString(severity),
    Buffer.from('C', 'latin1'),
    cString(e.code),
    Buffer.from('M', 'latin1'),
    cString(e.message),
  ];
  if (e.hint !== undefined) fields.push(Buffer.from('H', 'latin1'), cString(e.hint));
  return message('E', ...fields, Buffer.of(0));
}

/** The fields of an ErrorResponse or NoticeResponse body, by their one-letter type. */
export function responseFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const type = String.fromCharCode(body[i] ?? 0);
    const end = body.indexOf(0, i + 1);
    if (end === -1) break;
    fields.set(type, body.toString('utf8', i + 1, end));
    i = end + 1;
  }
  return fields;
}

/**
 * One query as the extended protocol runs it: Parse (unnamed statement, no parameters), Bind,
 * Describe the portal, Execute every row, Sync. Parse takes one statement only, so the database
 * itself refuses a string of several.
 */
export function extendedQuery(text: string): Buffer {
  return Buffer.concat([
    message('P', cString(''), cString(text), int16(0)),
    message('B', cString(''), cString(''), int16(0), int16(0), int16(0)),
    message('D', Buffer.from('P', 'latin1'), cString('')),
    message('E', cString(''), int32(0)),
    message('S'),
  ]);
}
