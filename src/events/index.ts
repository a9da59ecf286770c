/** Change events: the dispatcher, the typed emitter, sinks, alert rules and webhook signatures. */
export { type CreateDispatcherOptions, createDispatcher, type MirrorDispatcher } from './createDispatcher.ts';
export { Dispatcher, type DispatcherOptions, DrainTimeoutError, type SinkStatus } from './dispatcher.ts';
export { createMirrorEvents, MirrorEvents, type MirrorListener } from './mirrorEvents.ts';
export { matchRule, routeEvent } from './rules.ts';
export type { EventSink, MirrorEvent, MirrorEventMap, MirrorEventName, RunSummary } from './types.ts';
export { signWebhookPayload, verifyWebhookSignature } from './webhookSignature.ts';
