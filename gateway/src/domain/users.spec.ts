import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type DatabaseHandle, openDatabase } from "@callmesh/platform/database.js";
import { userTokens } from "../db/schema.js";
import { createTenantDirectory } from "./tenant-directory.js";
import { createUsers } from "./users.js";

const migrationsFolder = fileURLToPath(new URL("../../migrations", import.meta.url));

describe("user tokens", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "callmesh-users-"));
  let database: DatabaseHandle;
  let now = new Date("2026-12-01T10:00:00Z");
  const clock = () => now;
  const minter = { tenantId: "t1", scopes: ["calls:supervise", "fleet:read"], subject: "key:test" };

  before(async () => {
    database = await openDatabase({ dataDir });
    await database.migrate({ migrationsFolder, migrationsTable: "__gateway_migrations" });
    await createTenantDirectory(database.db).createTenant("t1", "Tenant one");
  });
  after(async () => {
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("stops working when it expires, and expired tokens are swept at the user's next mint", async () => {
    const users = createUsers(database.db, clock);
    const user = await users.create("t1", {
      username: "ann",
      displayName: "",
      extension: "",
      scopes: ["calls:supervise", "calls:control"],
    });
    const minted = await users.mintToken(user, minter, 60);
    assert.deepEqual(minted.scopes, ["calls:supervise"]);
    assert.equal(minted.expiresAt.toISOString(), "2026-12-01T10:01:00.000Z");

    now = new Date("2026-12-01T10:00:59.999Z");
    assert.deepEqual(await users.authenticateToken(minted.token), {
      tenantId: "t1",
      scopes: ["calls:supervise"],
      subject: `user:${user.id}`,
    });
    now = new Date("2026-12-01T10:01:00Z");
    assert.equal(await users.authenticateToken(minted.token), undefined);

    now = new Date("2026-12-01T10:05:00Z");
    const next = await users.mintToken(user, minter, 0);
    assert.equal(next.expiresAt.toISOString(), "2026-12-01T11:05:00.000Z");
    const stored = await database.db.select({ expiresAt: userTokens.expiresAt }).from(userTokens);
    assert.deepEqual(
      stored.map((row) => row.expiresAt.toISOString()),
      ["2026-12-01T11:05:00.000Z"],
    );
    await assert.rejects(users.mintToken(user, minter, 59), /ttl_seconds/);
  });
});
