import * as grpc from '@grpc/grpc-js';
import type pino from 'pino';
import type { CallRecord } from './observed-router.js';

/** One line per RPC, in the shape of upstream's gRPC logging ("finished unary call with code OK"). */
export function logCall(logger: pino.Logger, record: CallRecord): void {
  const code = grpc.status[record.code] ?? String(record.code);
  const kind = record.method.streaming === 'unary' ? 'unary' : 'streaming';
  const fields = {
    'grpc.service': record.method.service,
    'grpc.method': record.method.method,
    'grpc.code': code,
    'grpc.time_ms': Math.round(record.durationMs * 1000) / 1000,
    ...(record.repository === undefined ? {} : { 'grpc.request.repository': record.repository }),
    ...(record.storage === undefined ? {} : { storage: record.storage }),
    ...(record.code === grpc.status.OK ? {} : { error: record.details }),
    ...record.fields,
  };
  logger.info(fields, `finished ${kind} call with code ${code}`);
}
