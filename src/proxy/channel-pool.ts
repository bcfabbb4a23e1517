// One grpc-js client per storage node address, shared by every call to it:
// a channel holds the HTTP/2 connection, and opening one per call would cost
// a handshake each time.
import * as grpc from '@grpc/grpc-js';

export interface ChannelSettings {
  maxMessageBytes: number;
  /** Extra grpc-js channel options (keepalive, TLS settings, ...). */
  channelOptions?: grpc.ChannelOptions;
  credentials?: grpc.ChannelCredentials;
}

// Retries would buffer every message for a replay the proxy never wants (the
// client retries if it wants to); channelz bookkeeping costs per call.
const FORWARDING_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.enable_retries': 0,
  'grpc.enable_channelz': 0,
};

export class ChannelPool {
  private readonly clients = new Map<string, grpc.Client>();

  constructor(private readonly settings: ChannelSettings) {}

  client(address: string): grpc.Client {
    let client = this.clients.get(address);
    if (client === undefined) {
      client = new grpc.Client(grpcTarget(address), this.settings.credentials ?? grpc.credentials.createInsecure(), {
        ...FORWARDING_CHANNEL_OPTIONS,
        'grpc.max_send_message_length': this.settings.maxMessageBytes,
        'grpc.max_receive_message_length': this.settings.maxMessageBytes,
        ...this.settings.channelOptions,
      });
      this.clients.set(address, client);
    }
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/** Gitaly addresses ("tcp://host:port", "unix:///path") as grpc-js targets. */
export function grpcTarget(address: string): string {
  if (address.startsWith('tcp://')) return address.slice('tcp://'.length);
  if (address.startsWith('unix://')) return `unix:${address.slice('unix://'.length)}`;
  return address;
}
