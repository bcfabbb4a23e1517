// grpc-js service definitions built straight from the protobufjs Root, so
// the server, our clients and the registry all use the same descriptors.
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { messageCodec } from './codec.js';
import { qualifiedName } from './load-protos.js';

export function serviceDefinition(service: protobuf.Service): grpc.ServiceDefinition {
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
      requestDeserialize: request.decode,
      responseSerialize: response.encode,
      responseDeserialize: response.decode,
      originalName: method.name,
    };
  }
  return definition;
}
