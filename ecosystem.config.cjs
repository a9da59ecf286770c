/**
 * PM2 process file: `pm2 start ecosystem.config.cjs`, then `pm2 save` to keep it across reboots.
 *
 * Settings come from `.env` in this folder: retab-mirror reads it itself at start (variables already set in
 * the environment win), so `.env` is the one place to edit; `pm2 restart ecosystem.config.cjs` applies it.
 *
 * The worker is the only writer of its SQLite file (a second one is refused): keep it at one instance in fork
 * mode. With a PostgreSQL mirror, start this same file on each machine of a fleet (README: Running a fleet).
 * To mirror several organisations, copy both apps per organisation with their own MIRROR_DB, QUEUE_PREFIX and
 * SERVER_PORT.
 */
const common = {
  script: 'bin/retab-mirror.js',
  cwd: __dirname,
  exec_mode: 'fork',
  instances: 1,
  autorestart: true,
  // A process that keeps crashing (e.g. an unreadable MIRROR_DB) is restarted ever more slowly, not in a loop.
  exp_backoff_restart_delay: 1000,
  time: true,
  env: { NODE_ENV: 'production' },
};

module.exports = {
  apps: [
    {
      ...common,
      name: 'retab-mirror-worker',
      args: 'worker',
      // PM2 stops with SIGINT, then SIGKILL after kill_timeout. The worker lets running tasks commit their
      // page and checkpoint and exits within 10 s: give it that, and a margin.
      kill_timeout: 12_000,
    },
    {
      ...common,
      name: 'retab-mirror-server',
      args: 'serve',
      kill_timeout: 5_000,
    },
  ],
};
