ALTER TABLE `event_cursors` ADD `generation` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `event_cursors` ADD `disabled_at` integer;--> statement-breakpoint
ALTER TABLE `event_cursors` ADD `disabled_reason` text;