// The reasons a telegram is refused. Each is also a code in the error catalogue (core/errors.ts).

export type TelegramErrorCode =
  | 'telegram_bad_crc'
  | 'telegram_truncated'
  | 'telegram_garbled'
  | 'telegram_unknown_format'
  | 'telegram_missing_register';

/** Thrown inside the parser only; parseTelegram turns it into `{ok: false, code, message, details}`. */
export class TelegramReject extends Error {
  constructor(
    readonly code: TelegramErrorCode,
    message: string,
    readonly details: Readonly<Record<string, string | number>>,
  ) {
    super(message);
    this.name = 'TelegramReject';
  }
}
