// A server we started must not outlive us, even when a test crashes or the
// runner kills us. Two layers:
//  - a process 'exit' hook (normal exit, uncaught exception) asks the server
//    for a fast shutdown; it finishes on its own after we are gone;
//  - a detached watchdog shell, which survives SIGKILL of this process, polls
//    for our death and then shuts the server down (CONT first, in case it was
//    paused; KILL if fast shutdown does not finish in 10 s).
import { spawn, type ChildProcess } from 'node:child_process';
import { childPids, isRunning, signalEach } from './process-tree.js';

const WATCHDOG_SCRIPT = `
parent=$1; pg=$2
# A zombie counts as gone: it holds nothing, and our init may reap it late.
alive() {
  read -r _ rest < "/proc/$1/stat" 2>/dev/null || return 1
  case "$rest" in *") Z "*|*") X "*) return 1;; esac
}
while alive "$parent" && alive "$pg"; do sleep 0.5; done
alive "$pg" || exit 0
kids=$(for s in /proc/[0-9]*/stat; do
  read -r p rest < "$s" 2>/dev/null && case "$rest" in *") "?" $pg "*) echo "$p";; esac
done)
kill -CONT "$pg" $kids 2>/dev/null
kill -INT "$pg" 2>/dev/null
i=0; while alive "$pg" && [ $i -lt 20 ]; do sleep 0.5; i=$((i+1)); done
alive "$pg" && kill -KILL "$pg" $kids 2>/dev/null
exit 0
`;

export class OrphanGuard {
  private readonly watchdog: ChildProcess;
  private readonly onExit: () => void;

  constructor(private readonly serverPid: number) {
    this.watchdog = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'postgres-watchdog', String(process.pid), String(serverPid)], {
      detached: true,
      stdio: 'ignore',
    });
    // Spawn failure (no sh) only loses the second layer; it must not crash us.
    this.watchdog.on('error', () => undefined);
    this.watchdog.unref();
    this.onExit = () => this.shutDownSync();
    process.on('exit', this.onExit);
  }

  /** The server stopped under our control: stand down. */
  dispose(): void {
    process.removeListener('exit', this.onExit);
    if (this.watchdog.exitCode === null && this.watchdog.signalCode === null) this.watchdog.kill('SIGKILL');
  }

  private shutDownSync(): void {
    if (!isRunning(this.serverPid)) return;
    signalEach([this.serverPid, ...childPids(this.serverPid)], 'SIGCONT');
    signalEach([this.serverPid], 'SIGINT');
  }
}
