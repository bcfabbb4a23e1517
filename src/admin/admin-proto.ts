import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import path from 'node:path';
import { findProjectRoot } from '../protocol/index.js';

let service: grpc.ServiceClientConstructor | undefined;

/** praefect.admin.ClusterAdmin, loaded once; 64-bit numbers as JS numbers (ids and indexes stay below 2^53). */
export function clusterAdminService(): grpc.ServiceClientConstructor {
  if (service === undefined) {
    const definition = grpc.loadPackageDefinition(
      protoLoader.loadSync(path.join(findProjectRoot(), 'proto', 'praefect', 'admin.proto'), { longs: Number, defaults: true, keepCase: true }),
    );
    const pkg = (definition['praefect'] as grpc.GrpcObject)['admin'] as grpc.GrpcObject;
    service = pkg['ClusterAdmin'] as grpc.ServiceClientConstructor;
  }
  return service;
}
