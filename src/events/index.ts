/** Change events: the dispatcher, the typed emitter, sinks, alert rules, dead letters and webhook signatures. */
export { type CreateDispatcherOptions, createDispatcher, type MirrorDispatcher } from './createDispatcher.ts';
export { getCursor, listCursors, replayFrom } from './cursors.ts';
export { type DeadLetter, listDeadLetters } from './deadLetters.ts';
export { Dispatcher, type DispatcherOptions, DrainTimeoutError, type SinkStatus } from './dispatcher.ts';
export { createMirrorEvents, MirrorEvents, type MirrorListener } from './mirrorEvents.ts';
export { readLastEvents } from './outbox.ts';
export { WebhookDeliveryError } from './postWebhook.ts';
export { type RetryResult, retryDeadLetters } from './retryDeadLetters.ts';
export { matchRule, routeEvent } from './rules.ts';
export type { EventSink, MirrorEvent, MirrorEventMap, MirrorEventName, RunSummary } from './types.ts';
export { SIGNATURE_HEADER, signWebhookPayload, verifyWebhookSignature } from './webhookSignature.ts';
