import { z } from "zod";

export { z };

/** Thrown when the environment does not describe a valid configuration; names every bad key. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Parses a service's configuration from environment variables, once, at start.
 * `schema` is a zod object keyed by env var name, each key with its default and a
 * `.describe()` doc; the error lists every invalid variable with what was wrong.
 */
export function parseConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.join(".");
    const doc = key ? (schema.shape as Record<string, z.ZodType>)[key]?.description : undefined;
    return `  ${key || "(config)"}: ${issue.message}${doc ? ` (${doc})` : ""}`;
  });
  throw new ConfigError(`invalid configuration:\n${problems.join("\n")}`);
}

/** An env var holding a TCP port, 0 for any free port. */
export const portVar = (defaultPort: number) => z.coerce.number().int().min(0).max(65535).default(defaultPort);

/** An optional env var: empty or unset means absent. */
export const optionalVar = () =>
  z
    .string()
    .optional()
    .transform((value) => (value === "" ? undefined : value));
