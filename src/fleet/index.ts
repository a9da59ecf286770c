/** The fleet: what lets several workers on several machines share one Redis and one mirror (leases). */

export type { HeldLease, LeaseInfo, LeaseOptions } from './lease.ts';
export {
  acquireLease,
  defaultOwner,
  LeaseLostError,
  leaseKey,
  listLeases,
  tryAcquireLease,
} from './lease.ts';
