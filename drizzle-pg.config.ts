import { defineConfig } from 'drizzle-kit';

/** The PostgreSQL store's migrations (drizzle.config.ts is SQLite's): `npx drizzle-kit generate --config drizzle-pg.config.ts`. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/mirror/pg/schema.ts',
  out: './drizzle-pg',
});
