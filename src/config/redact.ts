// The configuration as it may be logged: every secret replaced by a marker
// that still says whether one was set, so "auth off by mistake" stays visible.
import type { PraefectConfig } from './praefect-config.js';

export const REDACTED = '[REDACTED]';
export const UNSET = '';

function mask(secret: string): string {
  return secret.length === 0 ? UNSET : REDACTED;
}

export function redacted(config: PraefectConfig): PraefectConfig {
  return {
    ...config,
    auth: { ...config.auth, token: mask(config.auth.token) },
    virtualStorages: config.virtualStorages.map((vs) => ({
      ...vs,
      nodes: vs.nodes.map((node) => ({ ...node, token: mask(node.token) })),
    })),
    database: { ...config.database, password: mask(config.database.password) },
    raft: { ...config.raft, token: mask(config.raft.token) },
  };
}
