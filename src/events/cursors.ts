/**
 * Delivery ids. The delivery state itself (`event_cursors`) is read and written through the store
 * (`MirrorStore.cursors`, mirror/store.ts).
 */
export type { SinkCursor } from '../mirror/index.ts';

/**
 * The id of one delivery of an event to a sink: the event id for the first delivery, `<eventId>.r<n>` for
 * the n-th replay. Consumers dedupe on `eventId`; the delivery id tells a replay from a duplicate.
 */
export function deliveryId(eventId: string, generation: number): string {
  return generation > 0 ? `${eventId}.r${generation}` : eventId;
}
