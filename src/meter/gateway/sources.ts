// Where P1 bytes come from: a file or stdin (replay: ends with the input), a TCP stream
// (ser2net-style; reconnects with backoff), a serial device (configured with stty, then read as a
// stream; reopened with backoff when it goes away, e.g. a USB adapter unplugged) or an MQTT topic
// (one message = one or more telegrams, or any piece of the byte stream). Each source hands its
// bytes to a sink and waits for the sink before reading on, so processing and saving pace it.
// No native serial library: the tty is an ordinary character device once stty has set it up.

import { execFile } from 'node:child_process';
import { closeSync, constants, createReadStream, openSync } from 'node:fs';
import { ReadStream as TtyReadStream, isatty } from 'node:tty';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as mqttConnect } from 'mqtt';
import { sleepOn, type Scheduler } from '../../core/scheduler.js';
import { sttyArgs, type SerialSource, type SourceConfig } from './config.js';

export interface SourceSink {
  /** New bytes; the source reads on when the promise resolves. */
  data(chunk: Buffer): Promise<void>;
  /** A new connection: anything partial from the old one is dropped. */
  restart(): void;
  /** A link came up. */
  connected(what: string): void;
  /** The link failed; the source tries again after `retryInMs`. */
  failed(message: string, retryInMs: number): void;
}

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

export interface Source {
  /** A finite source (file, stdin) ends with its input; the others run until stopped. */
  readonly finite: boolean;
  readonly describe: string;
  /** Resolves when the input ended (finite sources) or `signal` aborted. */
  run(sink: SourceSink, signal: AbortSignal): Promise<void>;
}

/** `scheduler` times the waits between reconnect attempts. */
export function createSource(config: SourceConfig, backoff: Backoff, scheduler: Scheduler): Source {
  switch (config.type) {
    case 'file':
      return {
        finite: true,
        describe: `file ${config.path}`,
        run: (sink, signal) => readStream(createReadStream(config.path), sink, signal),
      };
    case 'stdin':
      return {
        finite: true,
        describe: 'stdin',
        run: (sink, signal) => readStream(process.stdin, sink, signal),
      };
    case 'tcp':
      return {
        finite: false,
        describe: `tcp ${config.host}:${config.port}`,
        run: (sink, signal) => runTcp(config.host, config.port, backoff, scheduler, sink, signal),
      };
    case 'serial':
      return {
        finite: false,
        describe: `serial ${config.device}`,
        run: (sink, signal) => runSerial(config, backoff, scheduler, sink, signal),
      };
    case 'mqtt':
      return {
        finite: false,
        describe: `mqtt ${config.url} ${config.topic}`,
        run: (sink, signal) => runMqtt(config, backoff, sink, signal),
      };
  }
}

async function readStream(
  stream: NodeJS.ReadableStream & { destroy?: () => void },
  sink: SourceSink,
  signal: AbortSignal,
): Promise<void> {
  const stop = (): void => stream.destroy?.();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const chunk of stream) {
      if (signal.aborted) return;
      await sink.data(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Buffer));
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

function nextDelay(delayMs: number, backoff: Backoff): number {
  return Math.min(backoff.maxMs, Math.max(backoff.initialMs, delayMs * 2));
}

async function runTcp(
  host: string,
  port: number,
  backoff: Backoff,
  scheduler: Scheduler,
  sink: SourceSink,
  signal: AbortSignal,
): Promise<void> {
  let delayMs = backoff.initialMs;
  while (!signal.aborted) {
    const gotData = await tcpSession(host, port, sink, signal);
    if (signal.aborted) return;
    if (gotData.ok) delayMs = backoff.initialMs;
    sink.failed(`tcp ${host}:${port}: ${gotData.reason}`, delayMs);
    // An abort ends the wait at once; the loop then sees signal.aborted and stops.
    await sleepOn(scheduler, delayMs, signal);
    delayMs = nextDelay(delayMs, backoff);
  }
}

/** One TCP connection until it closes; `ok` when it delivered any bytes. */
function tcpSession(
  host: string,
  port: number,
  sink: SourceSink,
  signal: AbortSignal,
): Promise<{ ok: boolean; reason: string }> {
  return new Promise((resolve) => {
    let received = false;
    let reason = 'connection closed';
    let chain = Promise.resolve();
    const socket: Socket = tcpConnect({ host, port });
    const stop = (): void => {
      socket.destroy();
    };
    signal.addEventListener('abort', stop, { once: true });
    socket.on('connect', () => {
      sink.restart();
      sink.connected(`tcp ${host}:${port}`);
    });
    socket.on('data', (chunk: Buffer) => {
      received = true;
      socket.pause();
      chain = chain.then(() => sink.data(chunk)).finally(() => socket.resume());
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      reason = err.code ?? err.message;
    });
    socket.on('close', () => {
      signal.removeEventListener('abort', stop);
      void chain.then(() => resolve({ ok: received, reason }));
    });
  });
}

function configureTty(s: SerialSource): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('stty', sttyArgs(s), { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (err)
        reject(new Error(`stty ${sttyArgs(s).join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/**
 * A tty is read through libuv's non-blocking tty handle, so closing it never waits for a read
 * that may never come (a file read of a tty would hold a thread-pool thread until data arrives).
 * Anything else (a FIFO, a recording) is read as a file.
 */
function openDevice(device: string): NodeJS.ReadableStream & { destroy(): void } {
  // O_NONBLOCK: opening a serial port must not wait for its carrier-detect line.
  const fd = openSync(device, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  if (isatty(fd)) return new TtyReadStream(fd);
  closeSync(fd);
  return createReadStream(device, { highWaterMark: 4096 });
}

async function runSerial(
  s: SerialSource,
  backoff: Backoff,
  scheduler: Scheduler,
  sink: SourceSink,
  signal: AbortSignal,
): Promise<void> {
  let delayMs = backoff.initialMs;
  while (!signal.aborted) {
    let reason = 'the device closed';
    try {
      if (s.stty) await configureTty(s);
      const stream = openDevice(s.device);
      sink.restart();
      sink.connected(
        `serial ${s.device} ${s.baud} ${s.dataBits}${s.parity[0]?.toUpperCase() ?? 'N'}${s.stopBits}`,
      );
      await readStream(stream, sink, signal);
      delayMs = backoff.initialMs;
    } catch (err) {
      reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
    if (signal.aborted) return;
    sink.failed(`serial ${s.device}: ${reason}`, delayMs);
    await sleepOn(scheduler, delayMs, signal);
    delayMs = nextDelay(delayMs, backoff);
  }
}

async function runMqtt(
  c: Extract<SourceConfig, { type: 'mqtt' }>,
  backoff: Backoff,
  sink: SourceSink,
  signal: AbortSignal,
): Promise<void> {
  // A client id makes a persistent session: the broker keeps QoS 1/2 messages while we are away.
  const client = mqttConnect(c.url, {
    clean: c.clientId === null,
    ...(c.clientId === null ? {} : { clientId: c.clientId }),
    ...(c.username === null ? {} : { username: c.username }),
    ...(c.password === null ? {} : { password: c.password }),
    reconnectPeriod: Math.max(backoff.initialMs, 1000),
    connectTimeout: 10_000,
  });
  let chain = Promise.resolve();
  client.on('connect', (ack) => {
    sink.restart();
    if (ack.sessionPresent && c.clientId !== null) {
      sink.connected(`mqtt ${c.url} ${c.topic} (session resumed)`);
      return;
    }
    client.subscribe(c.topic, { qos: c.qos }, (err) => {
      if (err) sink.failed(`mqtt subscribe ${c.topic}: ${err.message}`, backoff.initialMs);
      else sink.connected(`mqtt ${c.url} ${c.topic}`);
    });
  });
  client.on('message', (_topic, payload) => {
    chain = chain.then(() => sink.data(Buffer.from(payload)));
  });
  client.on('error', (err) =>
    sink.failed(`mqtt ${c.url}: ${err.message}`, Math.max(backoff.initialMs, 1000)),
  );
  client.on('offline', () =>
    sink.failed(`mqtt ${c.url}: offline`, Math.max(backoff.initialMs, 1000)),
  );
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  await chain;
}
