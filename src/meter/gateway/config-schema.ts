// The JSON Schema of the P1 gateway's config file (docs/config.md, docs/meter.md "Config"),
// written with TypeBox and checked by the shared mechanism of src/config/. What a schema cannot
// say (an address's checksum, a period dividing a day, ids appearing once) config.ts checks after.

import { type Static, Type } from '@sinclair/typebox';
import type { ConfigKind } from '../../config/file.js';

export const GATEWAY_CONFIG_KIND: ConfigKind = { name: 'gateway', code: 'gateway_config_invalid' };
/** A file holding a gateway config, or only {"meters": [...]} (reconciliation). */
export const METERS_CONFIG_KIND: ConfigKind = { name: 'meters', code: 'gateway_config_invalid' };

export const GATEWAY_DEFAULTS = {
  periodSeconds: 900,
  maxKw: 17.25,
  maxClockSkewMs: 60_000,
  maxAgeMs: 7 * 86_400_000,
  disconnectAfterMs: 60_000,
  retryInitialMs: 500,
  retryMaxMs: 30_000,
  outboxMax: 20_000,
} as const;

export const METERS_MAX = 1000;
const DAY_MS = 86_400_000;

const text = (description: string) => Type.String({ minLength: 1, description });
const nullableText = (description: string) =>
  Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()], { description }));
const closed = { additionalProperties: false } as const;

const FileSource = Type.Object(
  { type: Type.Literal('file'), path: text('a recording to replay') },
  closed,
);
const StdinSource = Type.Object({ type: Type.Literal('stdin') }, closed);
const TcpSource = Type.Object(
  {
    type: Type.Literal('tcp'),
    host: text('host serving the raw P1 byte stream (e.g. ser2net)'),
    port: Type.Integer({ minimum: 1, maximum: 65_535, description: 'its port' }),
  },
  closed,
);
const SerialSourceSchema = Type.Object(
  {
    type: Type.Literal('serial'),
    device: text('the tty, e.g. /dev/ttyUSB0'),
    dsmr: Type.Optional(
      Type.Union([Type.Literal('5.0'), Type.Literal('4.x'), Type.Literal('2.2')], {
        default: '5.0',
        description: 'DSMR version: sets baud, dataBits and parity',
      }),
    ),
    baud: Type.Optional(
      Type.Integer({
        minimum: 300,
        maximum: 4_000_000,
        description: 'overrides the DSMR line speed',
      }),
    ),
    dataBits: Type.Optional(
      Type.Integer({ minimum: 7, maximum: 8, description: 'overrides the DSMR data bits' }),
    ),
    parity: Type.Optional(
      Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')], {
        description: 'overrides the DSMR parity',
      }),
    ),
    stopBits: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 2, default: 1, description: 'stop bits' }),
    ),
    stty: Type.Optional(
      Type.Boolean({ default: true, description: 'configure the tty with stty before reading' }),
    ),
  },
  closed,
);
const MqttSource = Type.Object(
  {
    type: Type.Literal('mqtt'),
    url: Type.String({
      minLength: 1,
      pattern: '^(mqtts?|wss?|tcp|ssl)://',
      description: 'the broker, e.g. mqtt://broker:1883',
    }),
    topic: text('the topic carrying the telegrams'),
    clientId: nullableText('a persistent session under this client id'),
    qos: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 2, default: 1, description: 'MQTT QoS' }),
    ),
    username: nullableText('broker user'),
    password: nullableText('broker password'),
  },
  closed,
);

export const SOURCE_SCHEMA = Type.Union(
  [FileSource, StdinSource, TcpSource, SerialSourceSchema, MqttSource],
  { description: 'where the telegrams come from (default {"type": "stdin"})' },
);

export const METER_SCHEMA = Type.Object(
  {
    equipmentId: Type.String({
      pattern: '^[\\x21-\\x7e]{1,96}$',
      description: "the meter's 0-0:96.1.1: 1 to 96 printable ASCII characters",
    }),
    gridId: Type.Optional(text("the meter's id in the grid operator's CSV (default: equipmentId)")),
    producerKeyFile: Type.Optional(text("the meter's producer key (required by the gateway)")),
    consumerKeyFile: Type.Optional(text("the meter's consumer key (required by the gateway)")),
    producerAddress: nullableText('for reconciliation only, instead of producerKeyFile'),
    consumerAddress: nullableText('for reconciliation only, instead of consumerKeyFile'),
    maxKw: Type.Optional(
      Type.Number({
        minimum: 0.001,
        maximum: 100_000,
        description: 'overrides maxKw for this meter',
      }),
    ),
    source: Type.Optional(SOURCE_SCHEMA),
  },
  closed,
);

const METERS = Type.Array(METER_SCHEMA, { minItems: 1, maxItems: METERS_MAX });

export const GATEWAY_CONFIG_SCHEMA = Type.Object(
  {
    api: Type.String({
      minLength: 1,
      pattern: '^(https?|wss?)://',
      description: 'API URL of the processor or a mirror node',
    }),
    chainId: nullableText('the chain the readings are signed for (default: asked from the API)'),
    context: text('the context address'),
    stateDir: text('where the state and the status file live; one folder per gateway'),
    statusFile: Type.Optional(text('the status file (default <stateDir>/status.json)')),
    aggregation: Type.Optional(
      Type.Object(
        {
          periodSeconds: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 86_400,
              default: GATEWAY_DEFAULTS.periodSeconds,
              description: 'cut a reading at every boundary of this length (must divide a day)',
            }),
          ),
          telegrams: Type.Optional(
            Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()], {
              description: 'also cut a reading after this many telegrams',
            }),
          ),
        },
        closed,
      ),
    ),
    maxKw: Type.Optional(
      Type.Number({
        minimum: 0.001,
        maximum: 100_000,
        default: GATEWAY_DEFAULTS.maxKw,
        description: 'what the connection can deliver',
      }),
    ),
    maxClockSkewMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: DAY_MS,
        default: GATEWAY_DEFAULTS.maxClockSkewMs,
        description: 'how far a telegram may be dated ahead of the gateway clock',
      }),
    ),
    maxAgeMs: Type.Optional(
      Type.Integer({
        minimum: 1000,
        maximum: 100 * 365 * DAY_MS,
        default: GATEWAY_DEFAULTS.maxAgeMs,
        description: 'how far a telegram may be dated in the past',
      }),
    ),
    disconnectAfterMs: Type.Optional(
      Type.Integer({
        minimum: 1000,
        maximum: 365 * DAY_MS,
        default: GATEWAY_DEFAULTS.disconnectAfterMs,
        description: 'a longer gap between telegrams is reported as a disconnect',
      }),
    ),
    requireCrc: Type.Optional(
      Type.Boolean({ default: true, description: 'DSMR 4+ telegrams must carry their CRC' }),
    ),
    retry: Type.Optional(
      Type.Object(
        {
          initialMs: Type.Optional(
            Type.Integer({
              minimum: 10,
              maximum: 3_600_000,
              default: GATEWAY_DEFAULTS.retryInitialMs,
              description: 'first backoff for the processor and for sources',
            }),
          ),
          maxMs: Type.Optional(
            Type.Integer({
              minimum: 10,
              maximum: 3_600_000,
              default: GATEWAY_DEFAULTS.retryMaxMs,
              description: 'longest backoff (the backoff doubles)',
            }),
          ),
        },
        closed,
      ),
    ),
    outboxMax: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        default: GATEWAY_DEFAULTS.outboxMax,
        description: 'readings waiting for confirmation at most',
      }),
    ),
    meters: METERS,
  },
  {
    additionalProperties: false,
    title: 'HanzeNet P1 gateway config',
    description: 'The config file of `hanzenet meter gateway --config FILE` (docs/config.md).',
  },
);

/** A file whose `meters` reconciliation reads: a gateway config, or only {"meters": [...]}. */
export const METERS_FILE_SCHEMA = Type.Object({ meters: METERS });

export type GatewayConfigFile = Static<typeof GATEWAY_CONFIG_SCHEMA>;
export type MeterConfigFile = Static<typeof METER_SCHEMA>;
export type SourceConfigFile = Static<typeof SOURCE_SCHEMA>;
