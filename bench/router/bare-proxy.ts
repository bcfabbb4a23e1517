// The baseline: a bare byte-forwarding grpc-js proxy, the shape STACK-NOTES
// measured. Every path registered as bidi with identity (de)serializers,
// forwarded with makeBidiStreamRequest; no peek, no routing, no auth swap.
import * as grpc from '@grpc/grpc-js';
import { gitalyProtocol } from '../../src/protocol/index.js';

const identity = (bytes: Buffer): Buffer => bytes;

export async function startBareProxy(target: string, listen = '127.0.0.1:0'): Promise<{ address: string; close(): void }> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), { 'grpc.enable_retries': 0, 'grpc.enable_channelz': 0 });
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  const services = new Map<string, Array<{ name: string; path: string }>>();
  for (const m of gitalyProtocol().registry.all()) services.set(m.service, [...(services.get(m.service) ?? []), { name: m.method, path: m.path }]);
  for (const methods of services.values()) {
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const { name, path } of methods) {
      definition[name] = { path, requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
      implementation[name] = ((call: grpc.ServerDuplexStream<Buffer, Buffer>) => forward(client, path, call)) as grpc.UntypedHandleCall;
    }
    server.addService(definition, implementation);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `${listen.slice(0, listen.lastIndexOf(':'))}:${port}`,
    close: () => {
      server.forceShutdown();
      client.close();
    },
  };
}

function forward(client: grpc.Client, path: string, call: grpc.ServerDuplexStream<Buffer, Buffer>): void {
  const upstream = client.makeBidiStreamRequest(path, identity, identity, call.metadata, { deadline: call.getDeadline() });
  upstream.on('metadata', (metadata: grpc.Metadata) => call.sendMetadata(metadata));
  upstream.on('data', (chunk: Buffer) => {
    if (!call.write(chunk)) upstream.pause();
  });
  call.on('drain', () => upstream.resume());
  upstream.on('error', () => undefined);
  let status: grpc.StatusObject | undefined;
  let ended = false;
  const finish = (): void => {
    if (status === undefined || !ended) return;
    if (status.code === grpc.status.OK) call.end(status.metadata);
    else call.emit('error', { code: status.code, details: status.details, metadata: status.metadata });
  };
  upstream.on('status', (s: grpc.StatusObject) => {
    status = s;
    finish();
  });
  upstream.on('end', () => {
    ended = true;
    finish();
  });
  call.on('data', (chunk: Buffer) => {
    if (!upstream.write(chunk)) call.pause();
  });
  upstream.on('drain', () => call.resume());
  call.on('end', () => upstream.end());
  call.on('cancelled', () => upstream.cancel());
}
