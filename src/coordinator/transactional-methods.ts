// Which mutators run as reference transactions (DESIGN §10). Every
// repository-scoped mutator must be named in exactly one of the two lists,
// so a method added to the protos cannot slip past voting unnoticed: the
// router refuses to start until it is classified here.
import { UnclassifiedMethodError, type ClassificationProblem, type MethodRegistry } from '../protocol/index.js';

/** Mutators whose reference updates the replicas vote on; they fan out to every up-to-date replica. */
export const TRANSACTIONAL_METHODS: ReadonlySet<string> = new Set([
  '/gitaly.OperationService/UserCreateBranch',
  '/gitaly.OperationService/UserUpdateBranch',
  '/gitaly.OperationService/UserDeleteBranch',
  '/gitaly.OperationService/UserCommitFiles',
  '/gitaly.RefService/UpdateReferences',
  '/gitaly.RefService/DeleteRefs',
  '/gitaly.RepositoryService/WriteRef',
  '/gitaly.SmartHTTPService/PostReceivePack',
  '/gitaly.SSHService/SSHReceivePack',
]);

/** Mutators that go to the primary alone, and why voting does not apply to them. */
export const NON_TRANSACTIONAL_MUTATORS: ReadonlyMap<string, string> = new Map([
  ['/gitaly.RepositoryService/CreateRepository', 'creation: placed on the primary, then replicated to the assigned secondaries'],
  ['/gitaly.RepositoryService/CreateRepositoryFromBundle', 'creation: placed on the primary, then replicated to the assigned secondaries'],
  ['/gitaly.RepositoryService/RemoveRepository', 'removal: recorded in Raft, then a delete_replica job per replica'],
  ['/gitaly.RepositoryService/ReplicateRepository', 'the replication worker\'s own repair call: copies a whole replica from a source'],
]);

/** Mutators in neither list or in both, and names in the lists the registry does not know. */
export function transactionClassificationProblems(registry: MethodRegistry): ClassificationProblem[] {
  const problems: ClassificationProblem[] = [];
  const mutators = new Set(registry.all().filter((m) => m.operation === 'mutator' && m.scope === 'repository').map((m) => m.path));
  for (const path of mutators) {
    const voted = TRANSACTIONAL_METHODS.has(path);
    const exempt = NON_TRANSACTIONAL_MUTATORS.has(path);
    if (!voted && !exempt) problems.push({ path, reason: 'a repository mutator that is neither transactional nor exempt from voting' });
    if (voted && exempt) problems.push({ path, reason: 'listed both as transactional and as exempt from voting' });
  }
  for (const path of [...TRANSACTIONAL_METHODS, ...NON_TRANSACTIONAL_MUTATORS.keys()]) {
    if (!mutators.has(path)) problems.push({ path, reason: 'listed for voting but not a repository mutator of the registry' });
  }
  return problems;
}

/** Startup check: throws UnclassifiedMethodError naming every problem. */
export function assertTransactionsClassified(registry: MethodRegistry): void {
  const problems = transactionClassificationProblems(registry);
  if (problems.length > 0) throw new UnclassifiedMethodError(problems);
}
