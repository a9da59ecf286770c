-- jobs' rowid becomes an explicit column, `seq`, and job_files / job_metadata are keyed by it instead of the
-- random job id, so a page of new jobs appends to their indexes. Every row is kept: seq = the old rowid (the
-- order the mirror first saw each job), and each file / metadata row finds its job's seq by id.
-- Runs inside the migrator's transaction with foreign keys on: the new child tables reference `__new_jobs`,
-- and renaming it to `jobs` rewrites those references.
CREATE TABLE `__new_jobs` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
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
INSERT INTO `__new_jobs`("seq", "id", "status", "endpoint", "source", "created_at", "started_at", "completed_at", "expires_at", "organization_id", "project_id", "workflow_id", "workflow_node_id", "model", "error_code", "error_message", "metadata", "request", "response", "error", "extra", "has_request", "has_response", "first_seen_at", "last_seen_at", "observed_at", "status_changed_at", "upstream_missing_at") SELECT rowid, "id", "status", "endpoint", "source", "created_at", "started_at", "completed_at", "expires_at", "organization_id", "project_id", "workflow_id", "workflow_node_id", "model", "error_code", "error_message", "metadata", "request", "response", "error", "extra", "has_request", "has_response", "first_seen_at", "last_seen_at", "observed_at", "status_changed_at", "upstream_missing_at" FROM `jobs` ORDER BY rowid;
--> statement-breakpoint
CREATE TABLE `__new_job_files` (
	`job_seq` integer NOT NULL,
	`job_id` text NOT NULL,
	`position` integer NOT NULL,
	`filename` text NOT NULL,
	`document_type` text,
	PRIMARY KEY(`job_seq`, `position`),
	FOREIGN KEY (`job_seq`) REFERENCES `__new_jobs`(`seq`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_job_files`("job_seq", "job_id", "position", "filename", "document_type") SELECT j."seq", f."job_id", f."position", f."filename", f."document_type" FROM `job_files` f JOIN `__new_jobs` j ON j."id" = f."job_id" ORDER BY j."seq", f."position";
--> statement-breakpoint
CREATE TABLE `__new_job_metadata` (
	`job_seq` integer NOT NULL,
	`job_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`key`, `value`, `job_seq`),
	FOREIGN KEY (`job_seq`) REFERENCES `__new_jobs`(`seq`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_job_metadata`("job_seq", "job_id", "key", "value") SELECT j."seq", m."job_id", m."key", m."value" FROM `job_metadata` m JOIN `__new_jobs` j ON j."id" = m."job_id" ORDER BY m."key", m."value", j."seq";
--> statement-breakpoint
DROP TABLE `job_files`;
--> statement-breakpoint
DROP TABLE `job_metadata`;
--> statement-breakpoint
DROP TABLE `jobs`;
--> statement-breakpoint
ALTER TABLE `__new_jobs` RENAME TO `jobs`;
--> statement-breakpoint
ALTER TABLE `__new_job_files` RENAME TO `job_files`;
--> statement-breakpoint
ALTER TABLE `__new_job_metadata` RENAME TO `job_metadata`;
--> statement-breakpoint
CREATE INDEX `job_files_type_idx` ON `job_files` (`document_type`,`job_seq`);
--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_id_unique` ON `jobs` (`id`);
--> statement-breakpoint
CREATE INDEX `jobs_created_idx` ON `jobs` (`created_at`,`id`);
--> statement-breakpoint
CREATE INDEX `jobs_status_created_idx` ON `jobs` (`status`,`created_at`,`id`);
--> statement-breakpoint
CREATE INDEX `jobs_endpoint_created_idx` ON `jobs` (`endpoint`,`created_at`,`id`);
--> statement-breakpoint
CREATE INDEX `jobs_source_created_idx` ON `jobs` (`source`,`created_at`,`id`);
--> statement-breakpoint
CREATE INDEX `jobs_project_idx` ON `jobs` (`project_id`,`created_at`);
--> statement-breakpoint
CREATE INDEX `jobs_workflow_idx` ON `jobs` (`workflow_id`,`created_at`);
--> statement-breakpoint
CREATE INDEX `jobs_workflow_node_idx` ON `jobs` (`workflow_node_id`,`created_at`);
--> statement-breakpoint
CREATE INDEX `jobs_model_idx` ON `jobs` (`model`,`created_at`);
--> statement-breakpoint
CREATE INDEX `jobs_error_code_idx` ON `jobs` (`error_code`);
--> statement-breakpoint
CREATE INDEX `jobs_has_request_idx` ON `jobs` (`created_at`,`id`) WHERE has_request = 0;
