CREATE TABLE `event_cursors` (
	`sink` text PRIMARY KEY NOT NULL,
	`seq` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `event_dead_letters` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sink` text NOT NULL,
	`seq` integer NOT NULL,
	`event_id` text NOT NULL,
	`attempts` integer NOT NULL,
	`last_error` text,
	`failed_at` integer NOT NULL,
	`resolved_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `event_dead_letters_sink_event_idx` ON `event_dead_letters` (`sink`,`event_id`);--> statement-breakpoint
CREATE TABLE `job_events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` text NOT NULL,
	`type` text NOT NULL,
	`job_id` text NOT NULL,
	`from_status` text,
	`to_status` text,
	`occurred_at` integer NOT NULL,
	`observed_at` integer NOT NULL,
	`inferred` integer DEFAULT false NOT NULL,
	`backfill` integer DEFAULT false NOT NULL,
	`payload` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `job_events_event_id_idx` ON `job_events` (`event_id`);--> statement-breakpoint
CREATE INDEX `job_events_type_idx` ON `job_events` (`type`,`seq`);--> statement-breakpoint
CREATE TABLE `job_files` (
	`job_id` text NOT NULL,
	`position` integer NOT NULL,
	`filename` text NOT NULL,
	`document_type` text,
	PRIMARY KEY(`job_id`, `position`),
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `job_files_type_idx` ON `job_files` (`document_type`,`job_id`);--> statement-breakpoint
CREATE TABLE `job_metadata` (
	`job_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`key`, `value`, `job_id`),
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`endpoint` text NOT NULL,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`completed_at` integer,
	`expires_at` integer NOT NULL,
	`organization_id` text NOT NULL,
	`project_id` text,
	`workflow_id` text,
	`workflow_node_id` text,
	`model` text,
	`error_code` text,
	`error_message` text,
	`metadata` text,
	`request` text,
	`response` text,
	`error` text,
	`extra` text,
	`has_request` integer DEFAULT false NOT NULL,
	`has_response` integer DEFAULT false NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`observed_at` integer NOT NULL,
	`status_changed_at` integer,
	`upstream_missing_at` integer
);
--> statement-breakpoint
CREATE INDEX `jobs_created_idx` ON `jobs` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_status_created_idx` ON `jobs` (`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_endpoint_created_idx` ON `jobs` (`endpoint`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_source_created_idx` ON `jobs` (`source`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_project_idx` ON `jobs` (`project_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_workflow_idx` ON `jobs` (`workflow_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_workflow_node_idx` ON `jobs` (`workflow_node_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_model_idx` ON `jobs` (`model`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_error_code_idx` ON `jobs` (`error_code`);--> statement-breakpoint
CREATE INDEX `jobs_has_request_idx` ON `jobs` (`created_at`,`id`) WHERE has_request = 0;--> statement-breakpoint
CREATE TABLE `quarantine` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job_id` text,
	`partition` text,
	`reason` text NOT NULL,
	`issues` text,
	`raw` text NOT NULL,
	`observed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `quarantine_job_idx` ON `quarantine` (`job_id`);--> statement-breakpoint
CREATE TABLE `sync_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task` text NOT NULL,
	`partition` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`requests` integer DEFAULT 0 NOT NULL,
	`pages` integer DEFAULT 0 NOT NULL,
	`jobs` integer DEFAULT 0 NOT NULL,
	`inserted` integer DEFAULT 0 NOT NULL,
	`updated` integer DEFAULT 0 NOT NULL,
	`events` integer DEFAULT 0 NOT NULL,
	`missing` integer DEFAULT 0 NOT NULL,
	`quarantined` integer DEFAULT 0 NOT NULL,
	`upstream_statuses` text,
	`outcome` text NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `sync_runs_partition_idx` ON `sync_runs` (`partition`,`id`);--> statement-breakpoint
CREATE INDEX `sync_runs_task_idx` ON `sync_runs` (`task`,`outcome`,`id`);--> statement-breakpoint
CREATE TABLE `sync_state` (
	`partition` text PRIMARY KEY NOT NULL,
	`cursor` text,
	`watermark` integer,
	`status` text DEFAULT 'idle' NOT NULL,
	`pages` integer DEFAULT 0 NOT NULL,
	`jobs` integer DEFAULT 0 NOT NULL,
	`last_run_at` integer,
	`last_success_at` integer,
	`last_error` text,
	`updated_at` integer NOT NULL
);
