// One OBIS line of a telegram, as the parser found it. The framer (parse.ts) makes these and the
// readings extractor (objects.ts) reads them; the type lives here, below both, so that the parser
// can use the extractor without the extractor importing the parser back.

/** One OBIS line as sent: `obis` normalised ("1-0:1.8.1"), its "(...)" values, 1-based line number. */
export interface TelegramObject {
  readonly obis: string;
  readonly values: readonly string[];
  readonly line: number;
}
