// Time reaches the processor and the mirror node as a parameter, so simulations can control it.

export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
