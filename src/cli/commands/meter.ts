// `hanzenet meter parse|simulate|gateway` and `hanzenet reconcile`: read DSMR P1 telegrams as JSON,
// run a simulated DSMR 5.0 meter, run the P1 gateway that turns telegrams into Energy
// transactions, and reconcile the chain with the grid operator's 15-minute data (docs/meter.md).
// `reconcile` is a top-level command, registered here with the rest of the meter tooling.

import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ChainError, type ErrorCode } from '../../core/errors.js';
import type { PrivateKey } from '../../core/keys.js';
import { systemScheduler } from '../../core/scheduler.js';
import { parseAddressParam } from '../../energy/query-params.js';
import { runGateway } from '../../meter/gateway/run.js';
import { parsePrice } from '../../meter/reconcile/compare.js';
import { readMetersFile, reconcile, reportCsv } from '../../meter/reconcile/run.js';
import {
  MeterSimulator,
  SIMULATE_DEFAULTS,
  checkSimulateOptions,
  type SimulateOptions,
} from '../../meter/sim/simulate.js';
import { TelegramSplitter } from '../../meter/p1/splitter.js';
import { TELEGRAM_CHARS_MAX, parseTelegram } from '../../meter/p1/parse.js';
import { telegramToJson } from '../../meter/p1/json.js';
import { inputs, intOption, withClient } from '../context.js';
import { parseSigningKey } from '../inputs.js';
import { CommandFailed, EXIT_FAILED, EXIT_USAGE, printJson, usageError } from '../output.js';

interface ParseCliOptions {
  readonly all: boolean;
  readonly allowMissingCrc: boolean;
}

interface SimulateCliOptions {
  readonly equipmentId?: string;
  readonly start?: string;
  readonly intervalS: number;
  readonly count?: number;
  readonly seed: number;
  readonly latitude: number;
  readonly longitude: number;
  readonly pvKwp: number;
  readonly baseLoadW: number;
  readonly gas: boolean;
  readonly realtime: boolean;
}

/** A single-telegram input larger than this is refused without reading it all. */
const SINGLE_INPUT_BYTES_MAX = TELEGRAM_CHARS_MAX * 4;

export function register(program: Command): void {
  const meter = program
    .command('meter')
    .description('DSMR P1 smart-meter telegrams: parse them, simulate a meter, run the P1 gateway');
  meter
    .command('parse')
    .description(
      'print a DSMR telegram as JSON (registers in exact kWh, power in W, times in UTC); errors name the reason',
    )
    .argument('[file]', 'telegram file; "-" or none reads stdin', '-')
    .option(
      '--all',
      'the input is a stream of telegrams: print one JSON line per telegram, rejected ones on stderr',
      false,
    )
    .option(
      '--allow-missing-crc',
      'accept DSMR 4+ telegrams that end at "!" without a CRC (a CRC that is present is still checked)',
      false,
    )
    .action(async (file: string, opts: ParseCliOptions) => {
      if (opts.all) await parseStream(file, !opts.allowMissingCrc);
      else parseOne(await readInput(file), !opts.allowMissingCrc);
    });
  meter
    .command('simulate')
    .description(
      'emit DSMR 5.0 telegrams of a simulated household with solar panels (deterministic for a seed)',
    )
    .option('--equipment-id <id>', 'equipment id of the meter (default E99 and the seed)')
    .option('--start <iso>', 'time of the first telegram, ISO with Z or an offset (default: now)')
    .option(
      '--interval-s <s>',
      'seconds between telegrams',
      intOption(1, 86_400),
      SIMULATE_DEFAULTS.intervalS,
    )
    .option(
      '--count <n>',
      'number of telegrams (default 1, or unlimited with --realtime)',
      intOption(0),
    )
    .option(
      '--seed <n>',
      'seed of the weather and appliances',
      intOption(0, 0xffffffff),
      SIMULATE_DEFAULTS.seed,
    )
    .option(
      '--latitude <deg>',
      'latitude of the house',
      numberOption(-90, 90),
      SIMULATE_DEFAULTS.latitude,
    )
    .option(
      '--longitude <deg>',
      'longitude of the house',
      numberOption(-180, 180),
      SIMULATE_DEFAULTS.longitude,
    )
    .option(
      '--pv-kwp <kWp>',
      'peak power of the solar panels',
      numberOption(0, 1000),
      SIMULATE_DEFAULTS.pvKwp,
    )
    .option(
      '--base-load-w <W>',
      'always-on consumption',
      numberOption(0, 100_000),
      SIMULATE_DEFAULTS.baseLoadW,
    )
    .addOption(new Option('--no-gas', 'no gas meter on M-Bus channel 1'))
    .option('--realtime', 'wait interval-s between telegrams, as a real meter does', false)
    .action(async (opts: SimulateCliOptions) => {
      await simulate(opts);
    });
  meter
    .command('gateway')
    .description(
      'run the P1 gateway: telegrams from file, stdin, TCP, serial or MQTT become signed Energy transactions, exactly once (reports: JSON lines on stderr)',
    )
    .requiredOption('--config <file>', 'the gateway config (JSON, see docs/meter.md)')
    .action(async (opts: { config: string }) => {
      await gateway(opts.config);
    });
  registerReconcile(program);
}

interface ReconcileCliOptions {
  readonly context: string;
  readonly csv: string;
  readonly meters: string;
  readonly priceEurPerKwh: string;
  readonly out?: string;
  readonly csvOut?: string;
  readonly settle: boolean;
  readonly signingKey?: string;
  readonly signingKeyfile?: string;
}

function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description(
      "compare the grid operator's 15-minute CSV with what the meter keys recorded on chain; report every difference with its bill, optionally settle them (once) with Mutate",
    )
    .requiredOption('--context <address>', 'the context address')
    .requiredOption(
      '--csv <file>',
      "the grid operator's CSV: meter id, interval start, delivered kWh, returned kWh",
    )
    .requiredOption(
      '--meters <file>',
      'the meters config: a gateway config, or {"meters": [...]} with equipmentId, gridId, producer and consumer',
    )
    .requiredOption(
      '--price-eur-per-kwh <price>',
      'the external supplier price that differences are billed at, e.g. 0.25',
    )
    .option('--out <file>', 'write the JSON report here (stdout then gets the summary only)')
    .option('--csv-out <file>', 'write the differences as CSV here')
    .option(
      '--settle',
      'book every difference on chain with a Mutate signed by the context owner (exactly once, even when run again)',
      false,
    )
    .option(
      '--signing-key <key>',
      'the context owner key for --settle: a WIF, or JSON with "privateKey"',
    )
    .option('--signing-keyfile <file>', 'file holding the context owner key for --settle')
    .action(async (opts: ReconcileCliOptions, cmd: Command) => {
      await runReconcile(opts, cmd);
    });
}

async function runReconcile(opts: ReconcileCliOptions, cmd: Command): Promise<void> {
  const context = parseAddressParam(opts.context, '--context');
  const priceMicro = parsePrice(opts.priceEurPerKwh);
  if (priceMicro === null)
    throw usageError(
      `--price-eur-per-kwh: expected a decimal like 0.25 (at most 6 decimals), got "${opts.priceEurPerKwh}"`,
      { option: '--price-eur-per-kwh' },
    );
  const csvText = await inputs.read('--csv', opts.csv);
  const meters = await readMetersFile(opts.meters).catch(configIsUsage);
  let settleKey: PrivateKey | undefined;
  if (opts.settle) {
    if ((opts.signingKey === undefined) === (opts.signingKeyfile === undefined))
      throw usageError(
        '--settle needs exactly one of --signing-key and --signing-keyfile (the context owner key)',
        { option: '--settle' },
      );
    settleKey =
      opts.signingKey !== undefined
        ? parseSigningKey(opts.signingKey, '--signing-key')
        : parseSigningKey(
            await inputs.read('--signing-keyfile', opts.signingKeyfile ?? ''),
            `--signing-keyfile ${opts.signingKeyfile ?? ''}`,
          );
    if (settleKey.address !== context)
      throw usageError(
        `--settle: the signing key is ${settleKey.address}, not the owner of context ${context}`,
        { option: '--signing-keyfile' },
      );
  }
  const report = await withClient(cmd, (client) =>
    reconcile({
      client,
      context,
      csvText,
      csvName: opts.csv,
      meters,
      priceText: opts.priceEurPerKwh,
      priceMicro,
      ...(settleKey === undefined ? {} : { settleKey }),
    }),
  );
  if (opts.out !== undefined) await writeFile(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  if (opts.csvOut !== undefined) await writeFile(opts.csvOut, reportCsv(report));
  if (opts.out === undefined) printJson(report);
  else
    printJson({
      summary: report.summary,
      out: opts.out,
      csvOut: opts.csvOut ?? null,
      settlement:
        report.settlement === null
          ? null
          : {
              settled: report.settlement.settled,
              alreadySettled: report.settlement.alreadySettled,
              failed: report.settlement.failed,
            },
    });
  if (report.settlement !== null && report.settlement.failed > 0) {
    const first = report.settlement.transactions.find(
      (t) => t.status !== 'settled' && t.status !== 'already_settled',
    );
    throw new CommandFailed(EXIT_FAILED, {
      code: first?.code ?? 'contract_rejected',
      message: `${report.settlement.failed} of ${report.settlement.transactions.length} settlements did not go through; the first: ${first?.status ?? ''} ${first?.message ?? ''}`,
      details: { failed: report.settlement.failed, txId: first?.txId ?? null },
    });
  }
}

/** A config that cannot be used is the command line's fault: exit code 2, nothing was started. */
function configIsUsage(err: unknown): never {
  if (err instanceof ChainError && err.code === 'gateway_config_invalid')
    throw new CommandFailed(EXIT_USAGE, {
      code: err.code,
      message: err.message,
      details: err.details,
    });
  throw err;
}

/** Runs the gateway until its input ends (file, stdin) or SIGINT / SIGTERM; exit 1 after a fatal error. */
async function gateway(configPath: string): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await runGateway({
      configPath,
      signal: stop.signal,
      scheduler: systemScheduler,
    }).catch(configIsUsage);
    if (result.nothingAccepted) {
      throw new CommandFailed(EXIT_FAILED, {
        code: 'gateway_nothing_accepted',
        message:
          'the gateway accepted no telegram (see the "stopped" report line for each meter\'s counts and rejections)',
        details: { outbox: result.outbox },
      });
    }
    if (result.exitCode !== 0) {
      throw new CommandFailed(result.exitCode, {
        code: 'internal',
        message: 'the gateway stopped after a fatal error (see the "fatal" report line)',
        details: { outbox: result.outbox },
      });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function numberOption(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = /^\s*-?[0-9]+(?:\.[0-9]+)?\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max))
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

/** Input bytes as latin1 text (one character per byte, so CRCs are over the bytes as sent). */
async function readInput(file: string): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of openInput(file)) {
    const buf = chunk as Buffer;
    chunks.push(buf);
    bytes += buf.length;
    if (bytes > SINGLE_INPUT_BYTES_MAX) {
      throw new ChainError(
        'telegram_garbled',
        `the input holds more than ${SINGLE_INPUT_BYTES_MAX} bytes, a telegram at most ${TELEGRAM_CHARS_MAX} (--all reads a stream of telegrams)`,
        {
          bytesMax: SINGLE_INPUT_BYTES_MAX,
        },
      );
    }
  }
  return Buffer.concat(chunks).toString('latin1');
}

function openInput(file: string): AsyncIterable<unknown> {
  const stream = file === '-' ? process.stdin : createReadStream(file);
  return (async function* () {
    try {
      for await (const chunk of stream)
        yield typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw usageError(`cannot read "${file}" (${reason})`, { path: file, reason });
    } finally {
      if (file !== '-') (stream as ReturnType<typeof createReadStream>).destroy();
    }
  })();
}

function parseOne(text: string, requireCrc: boolean): void {
  const result = parseTelegram(text, { requireCrc });
  if (!result.ok) throw new ChainError(result.code, result.message, result.details);
  printJson(telegramToJson(result.telegram));
}

/** Every telegram of a stream: JSON lines on stdout, one error line on stderr per rejected one. */
async function parseStream(file: string, requireCrc: boolean): Promise<void> {
  const splitter = new TelegramSplitter();
  const rejected = new Map<string, number>();
  let index = 0;
  let parsed = 0;
  const handle = (texts: readonly string[]): void => {
    for (const text of texts) {
      index++;
      const r = parseTelegram(text, { requireCrc });
      if (r.ok) {
        parsed++;
        process.stdout.write(`${JSON.stringify(telegramToJson(r.telegram))}\n`);
      } else {
        rejected.set(r.code, (rejected.get(r.code) ?? 0) + 1);
        process.stderr.write(
          `${JSON.stringify({ error: { code: r.code, message: `telegram ${index}: ${r.message}`, details: { ...r.details, telegram: index } } })}\n`,
        );
      }
    }
  };
  for await (const chunk of openInput(file)) handle(splitter.feed(chunk as Buffer));
  handle(splitter.end());
  const stats = splitter.stats();
  const rejectedCount = [...rejected.values()].reduce((a, b) => a + b, 0);
  if (rejectedCount === 0 && stats.droppedBytes === 0) return;
  const code: ErrorCode =
    (rejected.keys().next().value as ErrorCode | undefined) ??
    (stats.droppedTelegrams > 0 ? 'telegram_truncated' : 'telegram_garbled');
  const message = `${rejectedCount} of ${index} telegrams rejected, ${stats.droppedBytes} bytes dropped (${stats.droppedTelegrams} partial telegrams)`;
  throw new CommandFailed(EXIT_FAILED, {
    code,
    message,
    details: {
      telegrams: index,
      parsed,
      rejected: Object.fromEntries(rejected),
      droppedBytes: stats.droppedBytes,
      droppedTelegrams: stats.droppedTelegrams,
    },
  });
}

function simulateOptions(o: SimulateCliOptions, nowMs: number): SimulateOptions {
  let startMs = Math.floor(nowMs / (o.intervalS * 1000)) * o.intervalS * 1000;
  if (o.start !== undefined) {
    if (
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/.test(o.start)
    ) {
      throw usageError(
        `--start: expected an ISO time with Z or an offset, like 2026-06-21T00:00:00Z, got "${o.start}"`,
        { option: '--start' },
      );
    }
    startMs = Date.parse(o.start);
  }
  const equipmentId = o.equipmentId ?? `E99${String(o.seed).padStart(14, '0')}`;
  const opts: SimulateOptions = {
    equipmentId,
    startMs,
    intervalS: o.intervalS,
    seed: o.seed,
    latitude: o.latitude,
    longitude: o.longitude,
    pvKwp: o.pvKwp,
    baseLoadW: o.baseLoadW,
    gas: o.gas,
  };
  const problem = checkSimulateOptions(opts);
  if (problem !== null) throw usageError(problem, {});
  return opts;
}

async function simulate(o: SimulateCliOptions): Promise<void> {
  const opts = simulateOptions(o, Date.now());
  const count = o.count ?? (o.realtime ? Number.POSITIVE_INFINITY : 1);
  const sim = new MeterSimulator(opts);
  const out = new StdoutWriter();
  const wallStartMs = Date.now();
  for (let k = 0; k < count; k++) {
    if (o.realtime && k > 0)
      await sleep(Math.max(0, wallStartMs + k * opts.intervalS * 1000 - Date.now()));
    if (!(await out.write(sim.next().text))) return;
  }
}

/** Writes to stdout with back-pressure; stops quietly once the reader has gone (EPIPE). */
class StdoutWriter {
  private closed = false;

  constructor() {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      this.closed = true;
    });
  }

  async write(text: string): Promise<boolean> {
    if (this.closed) return false;
    if (!process.stdout.write(text, 'latin1')) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          process.stdout.off('drain', done);
          process.stdout.off('close', done);
          resolve();
        };
        process.stdout.once('drain', done);
        process.stdout.once('close', done);
      });
    }
    return !this.closed;
  }
}
