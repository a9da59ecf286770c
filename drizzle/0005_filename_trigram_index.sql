-- A trigram index over each job's request filenames, behind `filename_contains` and `filename_regex` (see
-- src/mirror/filenameIndex.ts). FTS5 with the trigram tokenizer, folding case; contentless: it stores the
-- index only, not another copy of the names. One row per job: rowid = jobs.seq, text = the job's filenames,
-- each between newlines (so a regex's first and last literals can be looked up at a name's start and end),
-- with U+0130 (İ, char(304)) rewritten to `i`, as src/mirror/filenameLiterals.ts (`indexedText`) requires. detail=none: no positions (queries are ANDs of trigrams, and every candidate is tested exactly
-- afterwards), less than half the size of an index with positions.
CREATE VIRTUAL TABLE `job_filenames_fts` USING fts5(names, content='', contentless_delete=1, detail=none, tokenize='trigram case_sensitive 0');
--> statement-breakpoint
-- Jobs with seq <= indexed_through are in the index. Newer ones are added in batches by applyPage; until
-- then a query tests them directly.
CREATE TABLE `filename_index_state` (
	`id` integer PRIMARY KEY NOT NULL CHECK (`id` = 1),
	`indexed_through` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `filename_index_state` (`id`, `indexed_through`) SELECT 1, coalesce(max(`seq`), 0) FROM `jobs`;
--> statement-breakpoint
-- An existing mirror gets every job it holds indexed now.
INSERT INTO `job_filenames_fts` (rowid, names)
	SELECT `job_seq`, char(10) || replace(group_concat(`filename`, char(10)), char(304), 'i') || char(10) FROM `job_files` GROUP BY `job_seq`;
--> statement-breakpoint
-- Files of an already indexed job that change (a request known later, a deleted job) re-index it at once.
CREATE TRIGGER `job_files_fts_insert` AFTER INSERT ON `job_files`
WHEN new.`job_seq` <= (SELECT `indexed_through` FROM `filename_index_state` WHERE `id` = 1)
BEGIN
	DELETE FROM `job_filenames_fts` WHERE rowid = new.`job_seq`;
	INSERT INTO `job_filenames_fts` (rowid, names)
		SELECT new.`job_seq`, char(10) || replace(group_concat(`filename`, char(10)), char(304), 'i') || char(10) FROM `job_files`
		WHERE `job_seq` = new.`job_seq` HAVING count(*) > 0;
END;
--> statement-breakpoint
CREATE TRIGGER `job_files_fts_delete` AFTER DELETE ON `job_files`
WHEN old.`job_seq` <= (SELECT `indexed_through` FROM `filename_index_state` WHERE `id` = 1)
BEGIN
	DELETE FROM `job_filenames_fts` WHERE rowid = old.`job_seq`;
	INSERT INTO `job_filenames_fts` (rowid, names)
		SELECT old.`job_seq`, char(10) || replace(group_concat(`filename`, char(10)), char(304), 'i') || char(10) FROM `job_files`
		WHERE `job_seq` = old.`job_seq` HAVING count(*) > 0;
END;
--> statement-breakpoint
CREATE TRIGGER `job_files_fts_update` AFTER UPDATE OF `job_seq`, `filename` ON `job_files`
WHEN min(old.`job_seq`, new.`job_seq`) <= (SELECT `indexed_through` FROM `filename_index_state` WHERE `id` = 1)
BEGIN
	DELETE FROM `job_filenames_fts` WHERE rowid IN (old.`job_seq`, new.`job_seq`);
	INSERT INTO `job_filenames_fts` (rowid, names)
		SELECT `job_seq`, char(10) || replace(group_concat(`filename`, char(10)), char(304), 'i') || char(10) FROM `job_files`
		WHERE `job_seq` IN (old.`job_seq`, new.`job_seq`) GROUP BY `job_seq`;
END;
