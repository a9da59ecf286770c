-- Jobs gained `attempt_count` and `last_failure_code` upstream (May 2026); they get columns (the merge rule
-- and stats read them). A mirror that already received them kept them in `extra` (unknown fields): move the
-- well-typed ones over, so nothing is lost and nothing is stored twice. Adding nullable columns rewrites no row.
ALTER TABLE `jobs` ADD `attempt_count` integer;--> statement-breakpoint
ALTER TABLE `jobs` ADD `last_failure_code` text;--> statement-breakpoint
UPDATE `jobs` SET
  `attempt_count` = json_extract(`extra`, '$.attempt_count'),
  `extra` = nullif(json_remove(`extra`, '$.attempt_count'), '{}')
WHERE `extra` IS NOT NULL AND json_type(`extra`, '$.attempt_count') = 'integer';--> statement-breakpoint
UPDATE `jobs` SET
  `last_failure_code` = json_extract(`extra`, '$.last_failure_code'),
  `extra` = nullif(json_remove(`extra`, '$.last_failure_code'), '{}')
WHERE `extra` IS NOT NULL AND json_type(`extra`, '$.last_failure_code') = 'text';
