/** The Retab Jobs API simulator: a faithful `/v1/jobs` with evolving jobs and fault injection. */
export type { ClockMode, SimClock } from './clock.ts';
export { SimulatorError } from './errors.ts';
export type { FaultInjector } from './faults.ts';
export { FAULT_KINDS, type FaultConfig, type FaultKind } from './faults.ts';
export { generateJobs } from './generate.ts';
export { DEFAULT_RATES, type LifecycleRates } from './lifecycle.ts';
export { type IncludeOptions, SimJob, toJob } from './simJob.ts';
export { type Simulator, type SimulatorOptions, startSimulator } from './startSimulator.ts';
export type { RequestRecord, RequestStats, Route } from './stats.ts';
export type { CreateJobInput, SimStore } from './store.ts';
