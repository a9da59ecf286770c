/** Change events: the dispatcher, the typed emitter, sinks, alert rules, dead letters and webhook signatures. */
export {
  type CreateDispatcherOptions,
  checkEventsConfig,
  createDispatcher,
  EventsConfigError,
  eventsConfigProblems,
  type MirrorDispatcher,
} from './createDispatcher.ts';
export { deliveryId, type SinkCursor } from './cursors.ts';
export { Dispatcher, type DispatcherOptions, DrainTimeoutError, type SinkStatus } from './dispatcher.ts';
export type { EventType } from './eventModel.ts';
export { EVENT_TYPES } from './eventModel.ts';
export { createMirrorEvents, MirrorEvents, type MirrorListener } from './mirrorEvents.ts';
export { WebhookDeliveryError } from './postWebhook.ts';
export { type RetryResult, retryDeadLetters } from './retryDeadLetters.ts';
export { matchRule, routeEvent } from './rules.ts';
export { EMITTER_SINK } from './sinkNames.ts';
export type { EventSink, MirrorEvent, MirrorEventMap, MirrorEventName, RunSummary } from './types.ts';
export { SinkDisabledError } from './types.ts';
export {
  DELIVERY_ID_HEADER,
  SIGNATURE_HEADER,
  signWebhookPayload,
  verifyWebhookSignature,
  WEBHOOK_ID_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from './webhookSignature.ts';
export { RESERVED_SINK_NAMES } from './webhookTargets.ts';
