// The executable entry of `npm run jepsen`. It exits explicitly: a gRPC
// channel or timer a run failed to release must not keep a finished suite
// alive.
import { runJepsenCli } from './cli.js';

const code = await runJepsenCli(process.argv.slice(2));
process.stdout.write('', () => process.exit(code));
