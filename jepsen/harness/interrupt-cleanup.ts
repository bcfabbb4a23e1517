// Cleanups that must run when the harness is interrupted (SIGINT, SIGTERM):
// network namespaces, veths and mounts outlive the process otherwise. A
// normal exit runs them through the owners' own stop(); SIGKILL is covered
// by the stale-run cleanup at the next start.
type Cleanup = () => Promise<unknown>;

const cleanups = new Set<Cleanup>();
let installed = false;

/** Register a cleanup; call the returned function once the owner has cleaned up itself. */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  install();
  return () => {
    cleanups.delete(cleanup);
  };
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`jepsen: ${signal}: cleaning up (${cleanups.size} pending)\n`);
      const all = [...cleanups].map((c) => c().catch((error: unknown) => process.stderr.write(`jepsen: cleanup failed: ${String(error)}\n`)));
      void Promise.all(all).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}
