// How times and amounts read on the page: Amsterdam local time, kWh and EUR exactly as the API sent
// them (with a thin space before the unit), short addresses with the full one in a title.

import { TIME_ZONE } from './api.js';

const dateTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const time = new Intl.DateTimeFormat('en-GB', {
  timeZone: TIME_ZONE,
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const date = new Intl.DateTimeFormat('en-GB', {
  timeZone: TIME_ZONE,
  weekday: 'short',
  year: 'numeric',
  month: 'short',
  day: 'numeric',
});

export const fmtDateTime = (ms: number): string => dateTime.format(ms);
export const fmtTime = (ms: number): string => time.format(ms);
export const fmtDate = (ms: number): string => date.format(ms);

export const kwh = (text: string): string => `${text} kWh`;
export const eur = (text: string): string => `${text} EUR`;
export const eurPerKwh = (text: string): string => `${text} EUR/kWh`;

export function short(address: string): string {
  return address.length <= 12 ? address : `${address.slice(0, 6)}…${address.slice(-4)}`;
}
