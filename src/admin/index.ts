// The routers' admin API (proto/praefect/admin.proto): its service
// definition, message types and a promise client.
export { clusterAdminService } from './admin-proto.js';
export { AdminClient, type AdminClientOptions } from './admin-client.js';
export type * from './admin-types.js';
export { AdminRequestError, requireField, type AdminErrorCode } from './admin-request-error.js';
