// The executable entry of `npm run jepsen`.
import { runJepsenCli } from './cli.js';

process.exitCode = await runJepsenCli(process.argv.slice(2));
