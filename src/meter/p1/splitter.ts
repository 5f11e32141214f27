// Cuts a P1 byte stream (serial port, TCP, MQTT payloads, a replayed file) into telegram texts.
// It only frames; parseTelegram decides whether a text is a good telegram.
//
// Rules: bytes outside a telegram are dropped until a '/' starts one. A telegram ends with its
// end line: '!', up to 4 hex digits of CRC, CR, LF (the line end is included); any other
// character after '!' ends the telegram just before that character. A '/' inside a telegram means the meter or
// the link restarted mid-telegram: the partial telegram is dropped and a new one starts there
// (no DSMR value contains '/'). A partial telegram that grows beyond `telegramCharsMax` is dropped
// and the splitter waits for the next '/'. Every dropped byte is counted. Buffers are decoded as
// latin1, so one character is one byte and CRCs are computed over the bytes as sent.

import { TELEGRAM_CHARS_MAX } from './parse.js';

export interface SplitterStats {
  /** Complete telegram texts handed out (good or bad: the parser decides). */
  readonly telegrams: number;
  /** Bytes thrown away: garbage between telegrams and partial telegrams. */
  readonly droppedBytes: number;
  /** Partial telegrams thrown away (restarted by a '/', too long, or cut by end()). */
  readonly droppedTelegrams: number;
}

export interface SplitterOptions {
  readonly telegramCharsMax?: number;
}

/** The CRC after '!' has 4 hex digits. */
const END_LINE_HEX_DIGITS = 4;

export class TelegramSplitter {
  private readonly charsMax: number;
  /** The telegram being collected, from its '/'; empty when between telegrams. */
  private current = '';
  /** Index of '!' in `current`, or -1 while the end line has not started. */
  private bangAt = -1;
  private telegrams = 0;
  private droppedBytes = 0;
  private droppedTelegrams = 0;

  constructor(opts: SplitterOptions = {}) {
    this.charsMax = opts.telegramCharsMax ?? TELEGRAM_CHARS_MAX;
  }

  /** Adds received bytes; returns the telegrams they completed, in order. */
  feed(chunk: string | Uint8Array): string[] {
    const text =
      typeof chunk === 'string'
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    const out: string[] = [];
    let i = 0;
    while (i < text.length)
      i = this.current === '' ? this.skipToStart(text, i) : this.collect(text, i, out);
    return out;
  }

  /**
   * The input has ended: a telegram whose end line has begun ("!" seen; a file may lack the final
   * line end) is handed out, anything else still pending is dropped.
   */
  end(): string[] {
    const pending = this.current;
    const complete = this.bangAt >= 0;
    this.reset();
    if (pending === '') return [];
    if (complete) {
      this.telegrams++;
      return [pending];
    }
    this.drop(pending.length);
    return [];
  }

  stats(): SplitterStats {
    return {
      telegrams: this.telegrams,
      droppedBytes: this.droppedBytes,
      droppedTelegrams: this.droppedTelegrams,
    };
  }

  /** Bytes held for a telegram not yet complete. */
  pendingBytes(): number {
    return this.current.length;
  }

  private skipToStart(text: string, from: number): number {
    const slash = text.indexOf('/', from);
    const start = slash < 0 ? text.length : slash;
    this.droppedBytes += start - from;
    if (slash >= 0) {
      this.current = '/';
      return slash + 1;
    }
    return start;
  }

  /** Consumes `text` from `from` into the current telegram; returns where it stopped. */
  private collect(text: string, from: number, out: string[]): number {
    for (let i = from; i < text.length; i++) {
      const ch = text[i] as string;
      if (this.bangAt >= 0) {
        // The end line: "!", up to 4 hex digits, CR, LF. Anything else ends the telegram
        // before that character, which is then treated as the bytes after a telegram.
        if (!this.endLineAccepts(ch)) {
          this.finish(out);
          return i;
        }
        this.current += ch;
        if (ch === '\n') {
          this.finish(out);
          return i + 1;
        }
        continue;
      }
      if (ch === '/') {
        this.drop(this.current.length);
        this.reset();
        return i;
      }
      this.current += ch;
      if (ch === '!') this.bangAt = this.current.length - 1;
      if (this.current.length > this.charsMax) {
        this.drop(this.current.length);
        this.reset();
        return i + 1;
      }
    }
    return text.length;
  }

  private endLineAccepts(ch: string): boolean {
    const after = this.current.slice(this.bangAt + 1);
    if (ch === '\n') return true;
    if (after.endsWith('\r')) return false;
    if (ch === '\r') return true;
    return after.length < END_LINE_HEX_DIGITS && /^[0-9A-Fa-f]$/.test(ch);
  }

  private finish(out: string[]): void {
    out.push(this.current);
    this.telegrams++;
    this.reset();
  }

  private drop(bytes: number): void {
    this.droppedBytes += bytes;
    this.droppedTelegrams++;
  }

  private reset(): void {
    this.current = '';
    this.bangAt = -1;
  }
}
