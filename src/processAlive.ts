/**
 * Whether `pid` names a live process on this host: signal 0 reaches it (or it belongs to another user:
 * EPERM). Used to take over a lock or a lease left by a process of this host that no longer runs.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
