// Keeps a leading U+FEFF in text that PGlite returns. PGlite decodes every value of its wire
// protocol with a default TextDecoder, which drops a leading U+FEFF as a byte-order mark, so a
// stored "\ufeffabc" (bytes EF BB BF 61 62 63) came back as "abc" on the embedded database while
// PostgreSQL, through `pg`, gives "\ufeffabc". The chain must read the same values on both
// backends (a contract reading such text back would otherwise decide differently on a PGlite
// processor and a PostgreSQL mirror node).
//
// The fix wraps PGlite's exported protocol parser (`protocol.Parser`, the class PGlite parses
// every response with). It frames the same bytes the parser is given, and for each DataRow whose
// field bytes begin with EF BB BF it puts the one U+FEFF the decoder dropped back in front of that
// field, before PGlite applies its type parsers. A TextDecoder drops at most one leading mark, so
// one is exactly what was lost. The wrapper keeps its own copy of an incomplete message between
// calls, as the parser does. test/store-unicode.test.ts round-trips such text on both backends.

import { protocol } from '@electric-sql/pglite';

type DataRow = { name: string; fields: (string | null)[] };
type ParseCallback = (message: DataRow) => void;
type ParserPrototype = {
  parse(buffer: ArrayBuffer | ArrayBufferView, callback: ParseCallback): void;
};

const DATA_ROW = 0x44; // 'D'
const HEADER_BYTES = 5; // type byte + int32 length (which counts itself)
const BOM = '\ufeff';

/** Bytes of a message that did not end in the last buffer a parser was given. */
const carried = new WeakMap<object, Uint8Array>();

let installed = false;

/** Installs the wrapper once per process; PGlite's parsers created before or after all use it. */
export function keepLeadingByteOrderMarks(): void {
  if (installed) return;
  const proto = protocol.Parser.prototype as unknown as ParserPrototype;
  const parse = proto.parse;
  proto.parse = function (this: object, buffer, callback) {
    const fixes = rowsWithMark(this, bytesOf(buffer));
    if (fixes.length === 0) {
      parse.call(this, buffer, callback);
      return;
    }
    let row = 0;
    try {
      parse.call(this, buffer, (message) => {
        if (message.name === 'dataRow') {
          const fields = fixes[row++];
          if (fields !== undefined && fields !== null) {
            for (const i of fields) {
              const value = message.fields[i];
              if (value !== null && value !== undefined) message.fields[i] = BOM + value;
            }
          }
        }
        callback(message);
      });
    } catch (err) {
      carried.delete(this); // the parser drops what it held when a message fails to parse
      throw err;
    }
  };
  installed = true;
}

function bytesOf(buffer: ArrayBuffer | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(buffer)
    ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    : new Uint8Array(buffer);
}

/**
 * For each complete DataRow in what the parser will see (carried bytes + this buffer), in order:
 * the indexes of the fields whose bytes begin with EF BB BF, or null when none does. Empty when
 * no row needs a fix (the common case: nothing to wrap).
 */
function rowsWithMark(parser: object, chunk: Uint8Array): (number[] | null)[] {
  const before = carried.get(parser);
  const bytes = before === undefined ? chunk : concat(before, chunk);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows: (number[] | null)[] = [];
  let anyFix = false;
  let at = 0;
  while (at + HEADER_BYTES <= bytes.length) {
    const length = view.getUint32(at + 1);
    const end = at + 1 + length;
    if (length === 0 || end > bytes.length) break;
    if (bytes[at] === DATA_ROW) {
      const fields = markedFields(bytes, view, at + HEADER_BYTES);
      rows.push(fields);
      if (fields !== null) anyFix = true;
    }
    at = end;
  }
  if (at < bytes.length) carried.set(parser, bytes.slice(at));
  else carried.delete(parser);
  return anyFix ? rows : [];
}

function markedFields(bytes: Uint8Array, view: DataView, start: number): number[] | null {
  const count = view.getInt16(start);
  let at = start + 2;
  let marked: number[] | null = null;
  for (let i = 0; i < count; i++) {
    const length = view.getInt32(at);
    at += 4;
    if (length < 0) continue; // NULL
    if (length >= 3 && bytes[at] === 0xef && bytes[at + 1] === 0xbb && bytes[at + 2] === 0xbf) {
      marked ??= [];
      marked.push(i);
    }
    at += length;
  }
  return marked;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
