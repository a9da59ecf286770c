/** Where change events go, as settings: webhook sinks (`WEBHOOKS`) and alert rules (`ALERT_RULES`). */
import * as z from 'zod';
import { EVENT_TYPES } from '../events/eventModel.ts';
import { ENDPOINTS, JOB_STATUSES } from '../retab/index.ts';

export const WebhookSchema = z.object({
  name: z.string().min(1),
  url: z.url(),
  /** HMAC-SHA256 secret; defaults to `WEBHOOK_SECRET`. */
  secret: z.string().min(1).optional(),
});

export const AlertRuleSchema = z.object({
  name: z.string().min(1),
  when: z
    .object({
      type: z.array(z.enum(EVENT_TYPES)).optional(),
      to: z.array(z.enum(JOB_STATUSES)).optional(),
      from: z.array(z.enum(JOB_STATUSES)).optional(),
      endpoint: z.array(z.enum(ENDPOINTS)).optional(),
      metadata: z.record(z.string(), z.string()).optional(),
      includeBackfill: z.boolean().default(false),
      includeInferred: z.boolean().default(true),
    })
    .default({ includeBackfill: false, includeInferred: true }),
  /** Sink names: `log`, `stdout`, `queue`, or a webhook's `name`. */
  sinks: z.array(z.string().min(1)).min(1),
});
export type AlertRule = z.infer<typeof AlertRuleSchema>;
