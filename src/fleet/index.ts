/** The fleet: what lets several workers on several machines share one Redis and one mirror (leases, the upstream budget, day splits), and who is in it (presence). */

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
export type {
  FleetView,
  LiveWorker,
  PresenceOptions,
  PublishedPresence,
  WorkerPresence,
} from './presence.ts';
export {
  DEFAULT_PRESENCE_TTL_MS,
  describeFleet,
  listWorkers,
  presenceKey,
  publishPresence,
} from './presence.ts';
export type { FleetRateLimiterOptions, FleetRequestRate } from './rateLimiter.ts';
export { createFleetRateLimiter, fleetRequestRate, rateKey, requestCountKey } from './rateLimiter.ts';
