/** The fleet: what lets several workers on several machines share one Redis and one mirror (leases, the upstream budget). */

export type { HeldLease, LeaseInfo, LeaseOptions } from './lease.ts';
export {
  acquireLease,
  defaultOwner,
  LeaseLostError,
  leaseKey,
  listLeases,
  tryAcquireLease,
} from './lease.ts';
export type { FleetRateLimiterOptions, FleetRequestRate } from './rateLimiter.ts';
export { createFleetRateLimiter, fleetRequestRate, rateKey, requestCountKey } from './rateLimiter.ts';
