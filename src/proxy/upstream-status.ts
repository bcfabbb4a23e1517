// What the client hears when the node ended the call. A node that cancels a
// call the client did not cancel has gone away or dropped it (shutdown,
// crash, connection loss): to the client that is UNAVAILABLE, which it may
// retry, not CANCELLED, which would say the client asked for it.
import * as grpc from '@grpc/grpc-js';

export function clientStatusOf(status: grpc.StatusObject, clientCancelled: boolean): grpc.StatusObject {
  if (status.code !== grpc.status.CANCELLED || clientCancelled) return status;
  return { code: grpc.status.UNAVAILABLE, details: `the storage node ended the call: ${status.details}`, metadata: status.metadata };
}
