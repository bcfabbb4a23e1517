// Every method in proto/gitaly must be classified for routing; the router
// refuses to start otherwise, so this test fails first.
import t from 'tap';
import protobuf from 'protobufjs';
import { buildMethodRegistry, gitalyProtocol, listServices, qualifiedName, UnclassifiedMethodError } from '../../src/protocol/index.js';

const REQUIRED_METHODS: Record<string, string[]> = {
  'grpc.health.v1.Health': ['Check'],
  'gitaly.ServerService': ['ServerInfo', 'DiskStatistics', 'ReadinessCheck'],
  'gitaly.RepositoryService': [
    'RepositoryExists', 'CreateRepository', 'RemoveRepository', 'RepositorySize', 'WriteRef', 'CalculateChecksum',
    'ReplicateRepository', 'CreateBundle', 'CreateRepositoryFromBundle', 'OptimizeRepository', 'FindMergeBase',
  ],
  'gitaly.RefService': [
    'FindDefaultBranchName', 'FindAllBranchNames', 'FindLocalBranches', 'FindBranch', 'RefExists', 'DeleteRefs',
    'ListRefs', 'FindAllTags', 'UpdateReferences',
  ],
  'gitaly.CommitService': ['FindCommit', 'CountCommits', 'ListCommits'],
  'gitaly.BlobService': ['GetBlob'],
  'gitaly.OperationService': ['UserCreateBranch', 'UserDeleteBranch', 'UserUpdateBranch', 'UserCommitFiles'],
  'gitaly.SmartHTTPService': ['InfoRefsUploadPack', 'InfoRefsReceivePack', 'PostUploadPack', 'PostReceivePack'],
  'gitaly.SSHService': ['SSHUploadPack', 'SSHReceivePack'],
  'gitaly.InternalGitaly': ['WalkRepos'],
  'gitaly.RefTransaction': ['VoteTransaction', 'StopTransaction'],
};

t.test('every method of every loaded proto is classified', async (t) => {
  const { root, registry } = gitalyProtocol();
  t.same(registry.problems, [], 'no classification problems');
  const declared = listServices(root).flatMap((s) => s.methodsArray.map((m) => `/${qualifiedName(s)}/${m.name}`));
  t.ok(declared.length > 0);
  t.doesNotThrow(() => registry.assertClassified(declared));
  t.equal(registry.all().length, declared.length);
});

t.test('the issue table is exactly what the protos declare', async (t) => {
  const { services } = gitalyProtocol();
  const declared = Object.fromEntries([...services].map(([name, def]) => [name, Object.keys(def).sort()]));
  const required = Object.fromEntries(Object.entries(REQUIRED_METHODS).map(([n, m]) => [n, [...m].sort()]));
  t.same(declared, required);
});

t.test('routing facts of representative methods', async (t) => {
  const { registry } = gitalyProtocol();
  t.match(registry.get('/gitaly.RefService/FindBranch'), {
    operation: 'accessor', scope: 'repository', streaming: 'unary',
    targetRepository: { names: ['repository'], numbers: [1] },
  });
  t.match(registry.get('/gitaly.OperationService/UserCommitFiles'), {
    operation: 'mutator', streaming: 'clientStream',
    targetRepository: { names: ['header', 'repository'], numbers: [1, 1] },
  });
  t.match(registry.get('/gitaly.RepositoryService/ReplicateRepository'), {
    operation: 'mutator', additionalRepository: { names: ['source'], numbers: [2] },
  });
  t.match(registry.get('/gitaly.RepositoryService/OptimizeRepository'), { operation: 'maintenance' });
  t.match(registry.get('/gitaly.SSHService/SSHReceivePack'), { operation: 'mutator', streaming: 'bidi' });
  t.match(registry.get('/gitaly.RepositoryService/CreateBundle'), { streaming: 'serverStream' });
  t.match(registry.get('/gitaly.ServerService/ServerInfo'), { scope: 'server', operation: 'accessor' });
  t.match(registry.get('/gitaly.InternalGitaly/WalkRepos'), {
    scope: 'storage', operation: 'accessor', streaming: 'serverStream',
    storage: { names: ['storage_name'], numbers: [1] },
  });
  t.match(registry.get('/grpc.health.v1.Health/Check'), { scope: 'server' });
  t.throws(() => registry.assertClassified(['/gitaly.RefService/NoSuchMethod']), UnclassifiedMethodError);
});

t.test('an unannotated method or a missing target repository is a problem', async (t) => {
  // Options stay textual in protobufjs, so the extensions need not be declared here.
  const root = protobuf.parse(`
    syntax = "proto3";
    package gitaly;
    message OperationMsg { enum Operation { UNKNOWN = 0; MUTATOR = 1; ACCESSOR = 2; MAINTENANCE = 3; }
      enum Scope { REPOSITORY = 0; STORAGE = 2; } Operation op = 1; Scope scope_level = 2; }
    message Repository { string storage_name = 2; }
    message NoRepo { string x = 1; }
    message WithStorage { string storage_name = 1 [(storage) = true]; }
    service S {
      rpc Bare(NoRepo) returns (NoRepo);
      rpc Unknown(NoRepo) returns (NoRepo) { option (op_type) = { op: UNKNOWN }; }
      rpc NoTarget(NoRepo) returns (NoRepo) { option (op_type) = { op: ACCESSOR }; }
      rpc Storage(WithStorage) returns (NoRepo) { option (op_type) = { op: MUTATOR scope_level: STORAGE }; }
    }`, { keepCase: true }).root;
  root.resolveAll();
  const registry = buildMethodRegistry(root);
  t.same(registry.problems.map((p) => p.path).sort(), ['/gitaly.S/Bare', '/gitaly.S/NoTarget', '/gitaly.S/Unknown']);
  t.match(registry.get('/gitaly.S/Storage'), { scope: 'storage', storage: { names: ['storage_name'] } });
  t.throws(() => registry.assertClassified(['/gitaly.S/Bare']), UnclassifiedMethodError);
});
