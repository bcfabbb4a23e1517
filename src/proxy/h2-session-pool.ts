// One HTTP/2 session per storage node for the frame-level transport. A
// session that closes, fails or is told to go away leaves the pool; the next
// call opens a new one.
import http2 from 'node:http2';
import { grpcTarget } from './channel-pool.js';

export class H2SessionPool {
  private readonly sessions = new Map<string, http2.ClientHttp2Session>();

  session(address: string): http2.ClientHttp2Session {
    const existing = this.sessions.get(address);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(authorityUrl(address), { settings: { enablePush: false } });
    const forget = (): void => {
      if (this.sessions.get(address) === session) this.sessions.delete(address);
    };
    // Errors reach the calls on the session as stream errors; here we only forget it.
    session.on('error', forget);
    session.on('close', forget);
    session.on('goaway', forget);
    session.unref();
    this.sessions.set(address, session);
    return session;
  }

  close(): void {
    for (const session of this.sessions.values()) session.close();
    this.sessions.clear();
  }
}

function authorityUrl(address: string): string {
  const target = grpcTarget(address);
  if (target.startsWith('unix:')) throw new Error(`the frame-level transport does not reach unix sockets (${address})`);
  return `http://${target}`;
}
