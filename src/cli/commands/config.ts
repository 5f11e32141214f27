// `hanzenet config schema processor|node|gateway`: the JSON Schema each service's config file is
// checked against (docs/config.md), for editors and for checking a file before a deployment.

import { Argument, type Command } from 'commander';
import { GATEWAY_CONFIG_SCHEMA } from '../../meter/gateway/config-schema.js';
import { printJson } from '../output.js';
import { NODE_CONFIG_SCHEMA, PROCESSOR_CONFIG_SCHEMA } from '../service-config.js';

export const CONFIG_SCHEMAS = {
  processor: PROCESSOR_CONFIG_SCHEMA,
  node: NODE_CONFIG_SCHEMA,
  gateway: GATEWAY_CONFIG_SCHEMA,
} as const;

export type ConfigService = keyof typeof CONFIG_SCHEMAS;

/** The published JSON Schema of a service's config file (TypeBox's own marks are symbols: left out). */
export function configSchemaJson(service: ConfigService): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    ...(JSON.parse(JSON.stringify(CONFIG_SCHEMAS[service])) as Record<string, unknown>),
  };
}

export function register(program: Command): void {
  program
    .command('config')
    .description('the config files of the processor, a node and the P1 gateway')
    .command('schema')
    .description('print the JSON Schema of a config file')
    .addArgument(
      new Argument('<service>', 'whose config file').choices(Object.keys(CONFIG_SCHEMAS)),
    )
    .action((service: ConfigService) => {
      printJson(configSchemaJson(service));
    });
}
