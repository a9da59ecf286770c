-- `last_attempt_at` (a Job field since May 2026) gets a column: the merge rule compares it on every
-- observation (the second retry counter after `attempt_count`), the local API serves it, and the console
-- shows it. A mirror that already received it kept it in `extra`: move it over, so nothing is lost and
-- nothing is stored twice (as 0003 did for `attempt_count`). Adding a nullable column rewrites no row.
ALTER TABLE `jobs` ADD `last_attempt_at` integer;--> statement-breakpoint
UPDATE `jobs` SET
  `last_attempt_at` = json_extract(`extra`, '$.last_attempt_at'),
  `extra` = nullif(json_remove(`extra`, '$.last_attempt_at'), '{}')
WHERE `extra` IS NOT NULL AND json_type(`extra`, '$.last_attempt_at') = 'integer';
