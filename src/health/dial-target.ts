// Storage node addresses as upstream writes them, turned into what grpc-js dials.

export interface DialTarget {
  /** A grpc-js target: host:port, or unix:/path. */
  readonly target: string;
  readonly tls: boolean;
}

export function dialTarget(address: string): DialTarget {
  if (address.startsWith('tcp://')) return { target: address.slice('tcp://'.length), tls: false };
  if (address.startsWith('tls://')) return { target: address.slice('tls://'.length), tls: true };
  if (address.startsWith('unix://')) return { target: `unix:${address.slice('unix://'.length)}`, tls: false };
  return { target: address, tls: false };
}
