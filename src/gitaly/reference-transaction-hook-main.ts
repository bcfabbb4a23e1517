// git's reference-transaction hook, as a program: git runs it (through the
// hook script the node writes) with the phase as its argument and the
// reference updates on stdin. It hands both to the storage node process
// over the node's unix socket and exits non-zero unless the node answers
// "commit"; in the prepared phase a non-zero exit makes git abort the
// reference transaction. Imports nothing but node's own modules: it starts
// once per hook run.
import net from 'node:net';

interface HookAnswer {
  verdict?: string;
  message?: string;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function ask(socketPath: string, request: object): Promise<HookAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      socket.end();
      try {
        resolve(JSON.parse(buffered.slice(0, newline)) as HookAnswer);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('the storage node closed the hook connection without an answer')));
  });
}

async function main(): Promise<number> {
  const phase = process.argv[2] ?? '';
  const socketPath = process.env['GITALY_TX_HOOK_SOCKET'];
  const key = process.env['GITALY_TX_HOOK_KEY'];
  const changes = await readStdin();
  if (socketPath === undefined || key === undefined) {
    process.stderr.write('reference-transaction hook: not run by a transactional call\n');
    return 1;
  }
  const answer = await ask(socketPath, { key, phase, cwd: process.cwd(), changes: changes.toString('base64') });
  if (answer.verdict === 'commit') return 0;
  process.stderr.write(`reference-transaction hook: ${answer.verdict ?? 'error'}: ${answer.message ?? 'no reason given'}\n`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`reference-transaction hook failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
