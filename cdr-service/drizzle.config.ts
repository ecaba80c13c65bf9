import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit generate --config cdr-service/drizzle.config.ts` after a schema change.
export default defineConfig({
  dialect: "postgresql",
  schema: "./cdr-service/src/adapters/postgres-schema.ts",
  out: "./cdr-service/migrations",
});
