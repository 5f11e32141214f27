// The MQTT broker a test talks to: the one at HANZENET_TEST_MQTT_URL when it is set (CI points it
// at the machine's Mosquitto), otherwise an Aedes broker started in this process on a free
// loopback port, so the MQTT tests pass on a machine without a broker.

import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';

export interface TestBroker {
  /** mqtt://host:port */
  readonly url: string;
  /** 'external' (HANZENET_TEST_MQTT_URL) or 'in-process' (Aedes). */
  readonly kind: 'external' | 'in-process';
  close(): Promise<void>;
}

export async function startTestBroker(): Promise<TestBroker> {
  const external = process.env['HANZENET_TEST_MQTT_URL'];
  if (external !== undefined && external !== '') {
    return { url: external, kind: 'external', close: async () => {} };
  }
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the broker has no port');
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    kind: 'in-process',
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
