// grpc-js service definitions built straight from the protobufjs Root, so
// the server, our clients and the registry all use the same descriptors.
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { markMalformed, messageCodec } from './codec.js';
import { qualifiedName } from './load-protos.js';

export interface DefinitionOptions {
  /** 'mark': undecodable requests reach the handler as MalformedMessage. */
  malformedRequests?: 'throw' | 'mark';
}

export function serviceDefinition(service: protobuf.Service, options: DefinitionOptions = {}): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const request = messageCodec<unknown>(method.resolvedRequestType as protobuf.Type);
    const response = messageCodec<unknown>(method.resolvedResponseType as protobuf.Type);
    definition[method.name] = {
      path: `/${qualifiedName(service)}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: request.encode,
      requestDeserialize: options.malformedRequests === 'mark' ? tolerant(request.decode) : request.decode,
      responseSerialize: response.encode,
      responseDeserialize: response.decode,
      originalName: method.name,
    };
  }
  return definition;
}

function tolerant(decode: (bytes: Buffer) => unknown): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (error) {
      return markMalformed(error instanceof Error ? error.message : String(error));
    }
  };
}
