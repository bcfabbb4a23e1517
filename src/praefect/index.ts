// The router process: Raft, health, PostgreSQL and the forwarding front wired
// from a PraefectConfig (DESIGN §2).
export { PraefectServer, type PraefectServerOptions } from './praefect-server.js';
export { RaftClusterAccess } from './raft-cluster-access.js';
export { HealthPublisher, type HealthPublisherOptions } from './health-publisher.js';
export { openPool, poolOptions } from './database.js';
