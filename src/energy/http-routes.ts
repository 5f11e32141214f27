// The energy market's read routes (docs/api.md "Energy", docs/energy.md): balances, members,
// history and market statements and figures of a context, answered from the chain's database through `service.querySql()` with the
// queries of src/energy/queries.ts. A service without a database (querySql absent) answers 404.
// The platform's API server knows nothing of the energy market: the composition root hands this
// function to createApiServer as one of its `routes`.

import type { FastifyInstance } from 'fastify';
import type { ApiRoutes } from '../api/server.js';
import type { LedgerService } from '../api/types.js';
import { ChainError } from '../core/errors.js';
import type { Sql } from '../store/types.js';
import { deviceReadings, deviceRegistrations } from './device-queries.js';
import { marketFigures } from './market-figures.js';
import { parseGroupQuery } from './market-groups.js';
import { marketPrices, parsePricesFilter } from './market-prices-read.js';
import { energyPlaces, parsePlacesQuery } from './places.js';
import { marketFlows, parseFlowsQuery } from './market-flows.js';
import { marketOrders, parseOrdersQuery } from './market-orders.js';
import { readMarketStatements } from './market-grouped-statements.js';
import { energyBalances, energyContext, energyHistory } from './queries.js';
import { onlyParams } from './query-schema.js';
import {
  parseAddressParam,
  parseBalanceFilter,
  parseHistoryPage,
  parseIntegerParam,
} from './query-params.js';

export { onlyParams };

export const ENERGY_CONTEXT_PATH = '/api/energy/contexts/:context';

export const registerEnergyRoutes: ApiRoutes = (
  app: FastifyInstance,
  service: LedgerService,
): void => {
  const database = (path: string): Sql => {
    const sql = service.querySql?.();
    if (sql === undefined) {
      throw new ChainError('not_found', `this server keeps no database to answer ${path} from`, {
        path,
      });
    }
    return sql;
  };

  app.get(ENERGY_CONTEXT_PATH, async (req) => {
    const params = req.params as Record<string, string | undefined>;
    const context = parseAddressParam(params['context'], 'context');
    onlyParams(req.query, []);
    return energyContext(database(pathOf(req.url)), context);
  });

  app.get(`${ENERGY_CONTEXT_PATH}/balances`, async (req) => {
    const params = req.params as Record<string, string | undefined>;
    const context = parseAddressParam(params['context'], 'context');
    const query = onlyParams(req.query, ['trader', 'label', 'block', 'limit']);
    const filter = parseBalanceFilter(query);
    return energyBalances(database(pathOf(req.url)), context, filter);
  });

  app.get(`${ENERGY_CONTEXT_PATH}/market/statements`, async (req) => {
    const params = req.params as Record<string, string | undefined>;
    const context = parseAddressParam(params['context'], 'context');
    const query = onlyParams(req.query, ['trader', 'from', 'to', 'limit', 'group', 'tz']);
    return readMarketStatements(database(pathOf(req.url)), context, query);
  });

  app.get(`${ENERGY_CONTEXT_PATH}/market/figures`, async (req) => {
    const params = req.params as Record<string, string | undefined>;
    const context = parseAddressParam(params['context'], 'context');
    const query = parseGroupQuery(onlyParams(req.query, ['from', 'to', 'limit', 'group', 'tz']));
    return marketFigures(database(pathOf(req.url)), context, query);
  });

  app.get(`${ENERGY_CONTEXT_PATH}/devices/:address/registrations`, async (req) => {
    const params = req.params as Record<string, string | undefined>;
    const context = parseAddressParam(params['context'], 'context');
    const address = parseAddressParam(params['address'], 'address');
    onlyParams(req.query, []);
    return deviceRegistrations(database(pathOf(req.url)), context, address);
  });

  app.get(`${ENERGY_CONTEXT_PATH}/devices/:address/readings`, async (req) => {
    const params = req.params as Record<string, string | undefined>;
    const context = parseAddressParam(params['context'], 'context');
    const address = parseAddressParam(params['address'], 'address');
    const query = onlyParams(req.query, ['from']);
    const fromMs =
      query['from'] === undefined
        ? 0
        : parseIntegerParam(query['from'], 'from', 0, Number.MAX_SAFE_INTEGER);
    return deviceReadings(database(pathOf(req.url)), context, address, fromMs);
  });

  app.get(`${ENERGY_CONTEXT_PATH}/market/prices`, async (req) => {
    const params = req.params as Record<string, string | undefined>;
    const context = parseAddressParam(params['context'], 'context');
    const filter = parsePricesFilter(onlyParams(req.query, ['from', 'to', 'limit']));
    return marketPrices(database(pathOf(req.url)), context, filter);
  });

  app.get(`${ENERGY_CONTEXT_PATH}/market/flows`, async (req) => {
    const params = req.params as Record<string, string | undefined>;
    const context = parseAddressParam(params['context'], 'context');
    return marketFlows(database(pathOf(req.url)), context, parseFlowsQuery(req.query));
  });

  app.get(`${ENERGY_CONTEXT_PATH}/market/orders`, async (req) => {
    const params = req.params as Record<string, string | undefined>;
    const context = parseAddressParam(params['context'], 'context');
    const query = parseOrdersQuery(req.query);
    return marketOrders(database(pathOf(req.url)), context, query, Date.now());
  });

  app.get(`${ENERGY_CONTEXT_PATH}/places`, async (req) => {
    const params = req.params as Record<string, string | undefined>;
    const context = parseAddressParam(params['context'], 'context');
    return energyPlaces(database(pathOf(req.url)), context, parsePlacesQuery(req.query));
  });

  app.get(`${ENERGY_CONTEXT_PATH}/traders/:trader/history`, async (req) => {
    const params = req.params as Record<string, string | undefined>;
    const context = parseAddressParam(params['context'], 'context');
    const trader = parseAddressParam(params['trader'], 'trader');
    const page = parseHistoryPage(onlyParams(req.query, ['limit', 'before']));
    return energyHistory(database(pathOf(req.url)), context, trader, page);
  });
};

export function pathOf(url: string): string {
  return url.split('?')[0] ?? url;
}
