/** The fleet: what lets several workers on several machines share one Redis and one mirror (leases, day splits). */

export { type RedisDaySplitOptions, redisDaySplit, SPLIT_TTL_MS, splitKey } from './daySplit.ts';
export type { HeldLease, LeaseInfo, LeaseOptions } from './lease.ts';
export {
  acquireLease,
  defaultOwner,
  LeaseLostError,
  leaseKey,
  listLeases,
  tryAcquireLease,
} from './lease.ts';
