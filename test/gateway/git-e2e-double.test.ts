// The git CLI suite against a stand-in storage node: real git behind a
// grpc-js SmartHTTPService in this process, the gateway as a real process.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { git, makeGitHome } from './git-cli.js';
import { startGitBackedUpstream } from './git-backed-upstream.js';
import { gatewayBuilt } from './gateway-process.js';
import { gitSuite } from './git-suite.js';

if (!gatewayBuilt()) {
  t.plan(0, 'dist/ is missing: run `npm run build` so bin/git-gateway can start');
} else {
  const home = makeGitHome();
  gitSuite(t, async () => {
    const storageDir = mkdtempSync(path.join(tmpdir(), 'gateway-storage-'));
    const upstream = await startGitBackedUpstream('default', storageDir);
    return {
      target: upstream.address,
      storageName: 'default',
      createRepository: async (relativePath) => void (await git(home, storageDir, ['init', '-q', '--bare', path.join(storageDir, relativePath)])),
      repositoryDir: (relativePath) => path.join(storageDir, relativePath),
      stop: upstream.stop,
    };
  });
}
