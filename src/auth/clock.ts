/** Seconds since the unix epoch; injected so tests can move time. */
export type ClockSec = () => number;

export const systemClockSec: ClockSec = () => Math.floor(Date.now() / 1000);
