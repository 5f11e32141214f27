// `hanzenet uplink` and `hanzenet audit stack`: stacked marketplaces across chains
// (docs/market.md "Stacked marketplaces", docs/cli.md). The uplink carries each period's position
// from a child chain up to its parent and the settlement back down; the audit re-derives both
// directions from the chains and exits 1 on any difference.

import { InvalidArgumentError, Option, type Command } from 'commander';
import { HanzenetClient } from '../../client/client.js';
import { parseLogLevel, LOG_LEVELS } from '../../ledger/log.js';
import type { LogLevel } from '../../ledger/log.js';
import { auditStack } from '../../stack/audit.js';
import { intOption } from '../context.js';
import { CommandFailed, EXIT_FAILED, printJson } from '../output.js';

const UPLINK_INTERVAL_MS_DEFAULT = 2000;

interface UplinkCliOptions {
  readonly child: string;
  readonly parent: string;
  readonly intervalMs: number;
  readonly logLevel?: LogLevel;
}

export function register(program: Command): void {
  program
    .command('uplink')
    .description(
      'carry market positions from a child chain up to its parent and settlements back down (keeps no state; stops on SIGINT/SIGTERM)',
    )
    .requiredOption(
      '--child <url>',
      'API of the child chain (its processor: it signs the positions)',
    )
    .requiredOption(
      '--parent <url>',
      'API of the parent chain (its processor: it signs the settlements)',
    )
    .addOption(
      new Option('--interval-ms <ms>', 'pause between rounds')
        .argParser(intOption(10))
        .default(UPLINK_INTERVAL_MS_DEFAULT),
    )
    .addOption(
      new Option('--log-level <level>', `lowest level logged: ${LOG_LEVELS.join(', ')}`)
        .env('HANZENET_LOG_LEVEL')
        .argParser(logLevelOption),
    )
    .action(async (opts: UplinkCliOptions) => {
      const { runUplink } = await import('../../app/run-uplink.js');
      await runUplink({
        child: opts.child,
        parent: opts.parent,
        intervalMs: opts.intervalMs,
        logLevel: opts.logLevel,
      });
    });

  program
    .command('audit')
    .description('audits across chains')
    .command('stack')
    .description(
      're-derive every position a child sent up and every settlement that came down; prints a JSON report, exit 1 on any difference',
    )
    .requiredOption('--child <url>', 'API of the child chain (a processor or a mirror node)')
    .requiredOption('--parent <url>', 'API of the parent chain (a processor or a mirror node)')
    .action(async (opts: { child: string; parent: string }) => {
      const child = new HanzenetClient({ url: opts.child });
      const parent = new HanzenetClient({ url: opts.parent });
      try {
        const report = await auditStack(child, parent);
        printJson(report);
        if (!report.ok) {
          throw new CommandFailed(EXIT_FAILED, {
            code: 'stack_audit_difference',
            message: `the chains differ in ${report.differences.length} place(s); the report on stdout says where`,
            details: { differences: report.differences.length },
          });
        }
      } finally {
        child.close();
        parent.close();
      }
    });
}

function logLevelOption(text: string): LogLevel {
  try {
    return parseLogLevel(text);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
