// Solar production of the simulated household: the sun's position for the date, time and place,
// a clear-sky irradiance model, a south-facing panel at 35 degrees, and seeded clouds.

import { smoothNoise, uniform } from './random.js';

const DEG = Math.PI / 180;
const DAY_MS = 86_400_000;
const PANEL_TILT_DEG = 35;
/** Inverter and wiring losses: a typical performance ratio. */
const PERFORMANCE_RATIO = 0.85;
const SOLAR_CONSTANT_W_M2 = 1353;

export interface SolarSite {
  readonly latitude: number;
  readonly longitude: number;
  readonly pvKwp: number;
}

/** Sine of the sun's elevation, and the cosine of its angle of incidence on the panel. */
export function sunGeometry(
  utcMs: number,
  latitude: number,
  longitude: number,
): { sinElevation: number; cosIncidence: number } {
  const dayOfYear =
    Math.floor((utcMs - Date.UTC(new Date(utcMs).getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
  const declination = 23.44 * DEG * Math.sin((2 * Math.PI * (284 + dayOfYear)) / 365);
  const b = (2 * Math.PI * (dayOfYear - 81)) / 364;
  const equationOfTimeMin = 9.87 * Math.sin(2 * b) - 7.53 * Math.cos(b) - 1.5 * Math.sin(b);
  const utcHours = (((utcMs % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000;
  const solarHours = utcHours + longitude / 15 + equationOfTimeMin / 60;
  const hourAngle = 15 * (solarHours - 12) * DEG;
  const lat = latitude * DEG;
  const sinElevation =
    Math.sin(lat) * Math.sin(declination) +
    Math.cos(lat) * Math.cos(declination) * Math.cos(hourAngle);
  // A south-facing panel tilted by beta sees the sun as a horizontal surface at latitude - beta would.
  const eff = lat - PANEL_TILT_DEG * DEG;
  const cosIncidence =
    Math.sin(eff) * Math.sin(declination) +
    Math.cos(eff) * Math.cos(declination) * Math.cos(hourAngle);
  return { sinElevation, cosIncidence };
}

/** Irradiance on the panel under a clear sky, W/m2 (Meinel beam model, Kasten-Young air mass). */
export function clearSkyPanelIrradiance(sinElevation: number, cosIncidence: number): number {
  if (sinElevation <= 0) return 0;
  const elevationDeg = Math.asin(Math.min(1, sinElevation)) / DEG;
  const airMass = 1 / (sinElevation + 0.50572 * (elevationDeg + 6.07995) ** -1.6364);
  const beam = SOLAR_CONSTANT_W_M2 * 0.7 ** (airMass ** 0.678);
  const diffuse = 0.1 * beam * ((1 + Math.cos(PANEL_TILT_DEG * DEG)) / 2);
  return beam * Math.max(0, cosIncidence) + diffuse;
}

/**
 * Fraction of clear-sky light that gets through the clouds, in [0.05, 1]. Each day gets a seeded
 * clearness (from overcast to clear); within it, slow and fast noise make passing clouds.
 */
export function cloudFactor(seed: number, utcMs: number): number {
  const day = Math.floor(utcMs / DAY_MS);
  const clearness = Math.min(1, 0.2 + 1.0 * uniform(seed, 11, day));
  const slow = smoothNoise(seed, 12, utcMs, 20 * 60_000);
  const fast = smoothNoise(seed, 13, utcMs, 2 * 60_000);
  const factor = 1 - (1 - clearness) * (0.4 + 0.6 * slow) - (1 - clearness) * 0.3 * fast;
  return Math.min(1, Math.max(0.05, factor));
}

/** The PV system's AC output in whole W at `utcMs`: exactly 0 while the sun is below the horizon. */
export function solarPowerW(seed: number, site: SolarSite, utcMs: number): number {
  const { sinElevation, cosIncidence } = sunGeometry(utcMs, site.latitude, site.longitude);
  if (sinElevation <= 0) return 0;
  const irradiance = clearSkyPanelIrradiance(sinElevation, cosIncidence) * cloudFactor(seed, utcMs);
  const peakW = site.pvKwp * 1000;
  return Math.round(Math.min(peakW, (peakW * irradiance * PERFORMANCE_RATIO) / 1000));
}
