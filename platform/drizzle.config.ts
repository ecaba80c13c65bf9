import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit generate --config platform/drizzle.config.ts` after a schema change.
export default defineConfig({
  dialect: "postgresql",
  schema: "./platform/src/event-log/schema.ts",
  out: "./platform/migrations/event-log",
});
