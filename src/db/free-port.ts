// Free TCP ports. Another process may take one before the server binds it;
// the caller retries on "address in use".
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('the kernel gave no port'))));
    });
  });
}

/** The kernel's ephemeral range (what port 0 and outgoing connections draw from); Linux's default when unreadable. */
function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high)) return { low, high };
  } catch {
    // Not Linux: fall through.
  }
  return { low: 32_768, high: 60_999 };
}

const LOWEST_RESERVED_PORT = 10_000;
const RESERVE_ATTEMPTS = 64;

/**
 * A free port that is reserved for a process started later. Drawn at random
 * below the ephemeral range, so the kernel cannot hand it to a port-0 bind or
 * an outgoing connection in the meantime (that raced with `freePort`: a fault
 * proxy once got a port a router was about to bind). Falls back to freePort
 * when that band is too crowded.
 */
export async function reservablePort(host: string, random: () => number = Math.random): Promise<number> {
  const { low } = ephemeralRange();
  const high = low - 1;
  if (high <= LOWEST_RESERVED_PORT) return freePort(host);
  for (let attempt = 0; attempt < RESERVE_ATTEMPTS; attempt++) {
    const port = LOWEST_RESERVED_PORT + Math.floor(random() * (high - LOWEST_RESERVED_PORT + 1));
    if (await canBind(host, port)) return port;
  }
  return freePort(host);
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
