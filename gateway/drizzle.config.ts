import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit generate --config gateway/drizzle.config.ts` after a schema change.
export default defineConfig({
  dialect: "postgresql",
  schema: "./gateway/src/db/schema.ts",
  out: "./gateway/migrations",
});
