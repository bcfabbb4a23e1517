/**
 * What applying a command returns to its proposer. A refused compare-and-set
 * is a `conflict` carrying the current values, so the caller can decide
 * (re-route, ABORTED, retry) without another read; nothing here is thrown.
 */
export interface NotFoundResult {
  readonly status: 'not-found';
  readonly repositoryId: number;
  /** Set when the repository exists but the write intent does not. */
  readonly intentId?: string;
}

/** The payload was not a valid command; every replica returns the same and changes nothing. */
export interface InvalidResult {
  readonly status: 'invalid';
  readonly code: string;
  readonly field: string;
  readonly message: string;
}

export interface OkResult {
  readonly status: 'ok';
}

export interface LivenessResult {
  readonly status: 'ok';
  /** The cluster time at which this refresh applied: the router's activity is judged from it. */
  readonly clusterTimeMs: number;
}

export interface ForgetRouterResult {
  readonly status: 'ok';
  readonly forgotten: boolean;
}

export type CreateRepositoryResult =
  | OkResult
  | { readonly status: 'conflict'; readonly reason: 'id-taken' | 'path-taken'; readonly existingRepositoryId: number };

export type DeleteRepositoryResult = OkResult | NotFoundResult;

export type ElectPrimaryResult =
  | { readonly status: 'ok'; readonly primary: string; readonly previous: string | null; readonly changed: boolean }
  | { readonly status: 'conflict'; readonly reason: 'primary-changed'; readonly currentPrimary: string | null }
  | { readonly status: 'no-candidate'; readonly currentPrimary: string | null }
  | NotFoundResult;

/** The current values a generation conflict reports. */
export interface GenerationConflict {
  readonly status: 'conflict';
  readonly currentPrimary: string | null;
  /** The generation of the storage the command named, or of the current primary when the refusal is 'primary-changed' (-1: no replica). */
  readonly currentGeneration: number;
  readonly latestGeneration: number;
}

export type BumpGenerationResult =
  | { readonly status: 'ok'; readonly generation: number; readonly bumpedSecondaries: readonly string[] }
  | (GenerationConflict & { readonly reason: 'primary-changed' | 'generation-changed' | 'primary-outdated' })
  | NotFoundResult;

export type SetReplicaGenerationResult =
  | { readonly status: 'ok'; readonly generation: number; readonly changed: boolean }
  | (GenerationConflict & { readonly reason: 'generation-changed' | 'would-lower' | 'beyond-latest' })
  | NotFoundResult;

export type RecordWriteIntentResult =
  | OkResult
  | (GenerationConflict & { readonly reason: 'primary-changed' | 'primary-outdated' | 'generation-changed' | 'too-many-intents' })
  | NotFoundResult;

export type DiscardWriteIntentResult = OkResult | NotFoundResult;

export type ResolveWriteIntentResult =
  | {
      readonly status: 'ok';
      /** The storage made the only one on the latest generation, or null when the written storage was already outdated. */
      readonly authoritative: string | null;
      readonly generation: number | null;
    }
  | NotFoundResult;

export type AssignmentsResult =
  | { readonly status: 'ok'; readonly assigned: readonly string[] }
  | { readonly status: 'conflict'; readonly reason: 'primary-not-assigned' | 'not-enough-storages'; readonly currentPrimary: string | null }
  | NotFoundResult;

export type AcceptDatalossResult =
  | { readonly status: 'ok'; readonly generation: number }
  | (GenerationConflict & { readonly reason: 'no-replica' })
  | NotFoundResult;

export type CommandResult =
  | InvalidResult
  | OkResult
  | LivenessResult
  | ForgetRouterResult
  | CreateRepositoryResult
  | DeleteRepositoryResult
  | ElectPrimaryResult
  | BumpGenerationResult
  | SetReplicaGenerationResult
  | RecordWriteIntentResult
  | ResolveWriteIntentResult
  | DiscardWriteIntentResult
  | AssignmentsResult
  | AcceptDatalossResult;

/** The result each command type yields, for typed proposers. */
export interface ResultByType {
  'health-update': OkResult;
  'liveness-refresh': LivenessResult;
  'forget-router': ForgetRouterResult;
  'set-settings': OkResult;
  'create-repository': CreateRepositoryResult;
  'delete-repository': DeleteRepositoryResult;
  'elect-primary': ElectPrimaryResult;
  'bump-generation': BumpGenerationResult;
  'set-replica-generation': SetReplicaGenerationResult;
  'record-write-intent': RecordWriteIntentResult;
  'resolve-write-intent': ResolveWriteIntentResult;
  'discard-write-intent': DiscardWriteIntentResult;
  'set-assignments': AssignmentsResult;
  'set-replication-factor': AssignmentsResult;
  'accept-dataloss': AcceptDatalossResult;
}
