import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { clone, create, equals, type MessageInitShape, toJson } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { CallDirection, CallStatus } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { type Cdr, CdrSchema } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import type { CdrQuery, CdrStore } from "./cdr-store.js";

/** A store opened for the contract suite, and how to give back what it holds. */
export interface ContractCdrStore {
  readonly store: CdrStore;
  close(): Promise<void>;
}

const t0 = Date.UTC(2025, 0, 15, 9, 0, 0);
/** A timestamp `seconds` after the suite's epoch. */
const at = (seconds: number) => timestampFromMs(t0 + seconds * 1000);
/** A tenant of one test: tests share the store, never each other's rows. */
const newTenant = () => `tenant-${randomUUID()}`;

function cdr(tenantId: string, id: string, init: MessageInitShape<typeof CdrSchema> = {}): Cdr {
  return create(CdrSchema, { id, callId: id, tenantId, agentId: "pbx-1", startedAt: at(0), ...init });
}

const ids = (cdrs: readonly Cdr[]) => cdrs.map((c) => c.id);

/** Every page of a query, in order; fails on a page over the limit or a run that never ends. */
async function listAll(store: CdrStore, query: Omit<CdrQuery, "after">) {
  const pages: Cdr[][] = [];
  let after: CdrQuery["after"];
  do {
    const page = await store.list({ ...query, after });
    assert.ok(page.cdrs.length <= query.limit, `a page of ${page.cdrs.length} for limit ${query.limit}`);
    pages.push(page.cdrs);
    after = page.next;
    assert.ok(pages.length <= 10_000, "the pages never end");
  } while (after);
  return { pages, ids: pages.flatMap(ids) };
}

/** The port's order: start time, then id, both descending (ids compared as plain ASCII here). */
function newestFirst(cdrs: readonly { id: string; ms: number }[]): string[] {
  return [...cdrs].sort((a, b) => b.ms - a.ms || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).map((c) => c.id);
}

function assertSameCdr(actual: Cdr | undefined, expected: Cdr, message?: string) {
  assert.ok(actual, message ?? `CDR ${expected.id} is missing`);
  assert.deepEqual(toJson(CdrSchema, actual), toJson(CdrSchema, expected), message);
  assert.ok(equals(CdrSchema, actual, expected), message);
}

/**
 * The behaviour every CdrStore adapter owes the service, checked through the port only.
 * `open` gives a store of its own (a fresh database); the suite closes it at the end.
 * `largeBatch` (default 2,000) is the size of the one large batch.
 */
export function describeCdrStoreContract(
  name: string,
  open: () => Promise<ContractCdrStore>,
  options: { largeBatch?: number } = {},
): void {
  const large = options.largeBatch ?? 2000;
  describe(`CdrStore contract: ${name}`, { timeout: 120_000 }, () => {
    let opened: ContractCdrStore | undefined;
    let store: CdrStore;
    before(async () => {
      opened = await open();
      store = opened.store;
    });
    after(() => opened?.close());

    it("gets back a stored CDR with every field, and nothing for an unknown id", async () => {
      const tenant = newTenant();
      const full = cdr(tenant, "call-full", {
        callId: "call-full",
        pbxCallId: "1736931600.42",
        direction: CallDirection.INBOUND,
        fromNumber: "+35799000001",
        toNumber: "+35722000000",
        callerIdNumber: "+35799000001",
        callerIdName: "Ada Lovelace",
        trunk: "PJSIP/trunk-1",
        queue: "sales",
        answeredBy: "1001",
        rungExtensions: ["1002", "1001"],
        missedExtensions: ["1002"],
        startedAt: at(1),
        answeredAt: { seconds: BigInt(t0 / 1000 + 9), nanos: 250_000_000 },
        endedAt: at(70),
        durationSeconds: 69,
        talkSeconds: 61,
        waitSeconds: 8,
        status: CallStatus.SUCCESS,
        cause: { q850Code: 16, name: "NORMAL_CLEARING", sipCode: 200 },
        disposition: "ANSWERED",
        // Keys a document store may choke on: a dot, a leading dollar, an empty key.
        variables: { CRM_ID: "abc123", "crm.contact.id": "c-1", $where: "1", "": "empty key", note: "ünïcødé ☎" },
      });
      await store.upsert([full]);
      assertSameCdr(await store.get(tenant, "call-full"), full);
      assert.equal(await store.get(tenant, "call-unknown"), undefined);
    });

    it("replaces a CDR stored again, and keeps it once", async () => {
      const tenant = newTenant();
      const first = cdr(tenant, "call-1", { startedAt: at(10), answeredBy: "1001", status: CallStatus.SUCCESS });
      const second = cdr(tenant, "call-1", {
        startedAt: at(99),
        answeredBy: "1007",
        status: CallStatus.BUSY,
        variables: { CRM_ID: "changed" },
      });
      await store.upsert([first]);
      await store.upsert([second]);
      assertSameCdr(await store.get(tenant, "call-1"), second);
      const all = await store.list({ tenantId: tenant, limit: 10 });
      assert.equal(all.cdrs.length, 1);
      assertSameCdr(all.cdrs[0], second);
      // What the queries filter on is replaced too, not only the record.
      assert.deepEqual(ids((await store.list({ tenantId: tenant, extension: "1001", limit: 10 })).cdrs), []);
      assert.deepEqual(ids((await store.list({ tenantId: tenant, extension: "1007", limit: 10 })).cdrs), ["call-1"]);
      const before = { tenantId: tenant, startedBefore: t0 + 50_000, limit: 10 };
      assert.deepEqual(ids((await store.list(before)).cdrs), []);
    });

    it("stores the last copy, once, of a CDR a batch holds twice", async () => {
      const tenant = newTenant();
      const older = cdr(tenant, "call-dup", { answeredBy: "1001", status: CallStatus.SUCCESS });
      const newer = cdr(tenant, "call-dup", { answeredBy: "", status: CallStatus.CANCELLED, startedAt: at(5) });
      const other = cdr(tenant, "call-other", { startedAt: at(1) });
      await store.upsert([older, other, newer]);
      assertSameCdr(await store.get(tenant, "call-dup"), newer);
      assert.deepEqual(ids((await store.list({ tenantId: tenant, limit: 10 })).cdrs), ["call-dup", "call-other"]);
    });

    it("takes an empty batch as a no-op", async () => {
      const tenant = newTenant();
      await store.upsert([]);
      assert.deepEqual(await store.list({ tenantId: tenant, limit: 10 }), { cdrs: [], next: undefined });
    });

    it("lists newest first by start then id, in pages without gaps or repeats", async () => {
      const tenant = newTenant();
      // 13 calls on 6 start times: ties on the start are ordered by id, inserted out of order.
      const starts = [3, 1, 3, 2, 5, 3, 1, 4, 2, 5, 3, 4, 0];
      const calls = starts.map((s, i) =>
        cdr(tenant, `call-${String((i * 7) % 13).padStart(2, "0")}`, { startedAt: at(s) }),
      );
      // A call that never started sorts by its end.
      const unstarted = cdr(tenant, "call-unstarted", {
        startedAt: undefined,
        endedAt: { seconds: BigInt(t0 / 1000 + 2), nanos: 500_000_000 },
      });
      await store.upsert([...calls.slice(6), unstarted]);
      await store.upsert(calls.slice(0, 6));
      const expected = newestFirst([
        ...calls.map((c, i) => ({ id: c.id, ms: t0 + (starts[i] ?? 0) * 1000 })),
        { id: unstarted.id, ms: t0 + 2500 },
      ]);
      for (const limit of [1, 2, 5, 7, 14, 50]) {
        const { pages, ids: listed } = await listAll(store, { tenantId: tenant, limit });
        assert.deepEqual(listed, expected, `pages of ${limit}`);
        assert.equal(
          pages.length,
          Math.max(1, Math.ceil(expected.length / limit)),
          `pages of ${limit}: a full last page has no next`,
        );
      }
      const first = await store.list({ tenantId: tenant, limit: 3 });
      assert.equal(first.cdrs.length, 3);
      assert.ok(first.next, "next is set while more rows follow");
    });

    it("keeps the next pages stable when newer CDRs arrive between pages", async () => {
      const tenant = newTenant();
      const calls = Array.from({ length: 6 }, (_, i) => cdr(tenant, `call-${i}`, { startedAt: at(i % 3) }));
      await store.upsert(calls);
      const expected = newestFirst(calls.map((c, i) => ({ id: c.id, ms: t0 + (i % 3) * 1000 })));
      const first = await store.list({ tenantId: tenant, limit: 2 });
      assert.deepEqual(ids(first.cdrs), expected.slice(0, 2));
      // call-9 ties with the first page's start but sorts above it by id: it is not after the cursor.
      await store.upsert([
        cdr(tenant, "call-newer", { startedAt: at(60) }),
        cdr(tenant, "call-9", { startedAt: at(2) }),
      ]);
      const second = await store.list({ tenantId: tenant, limit: 10, after: first.next });
      assert.deepEqual(ids(second.cdrs), expected.slice(2));
      assert.deepEqual((await listAll(store, { tenantId: tenant, limit: 3 })).ids, [
        "call-newer",
        "call-9",
        ...expected,
      ]);
    });

    describe("filters", () => {
      const tenant = newTenant();
      const calls = {
        a: cdr(tenant, "call-a", {
          direction: CallDirection.INBOUND,
          startedAt: at(10),
          fromNumber: "+35799000001",
          rungExtensions: ["1001", "1002"],
          missedExtensions: ["1002"],
          answeredBy: "1001",
        }),
        b: cdr(tenant, "call-b", { direction: CallDirection.OUTBOUND, startedAt: at(20), fromNumber: "1003" }),
        c: cdr(tenant, "call-c", {
          direction: CallDirection.INTERNAL,
          startedAt: at(30),
          fromNumber: "1001",
          rungExtensions: ["1004"],
          answeredBy: "1004",
        }),
        d: cdr(tenant, "call-d", {
          direction: CallDirection.INBOUND,
          startedAt: at(40),
          fromNumber: "+35799000002",
          rungExtensions: ["1005"],
          missedExtensions: ["1005"],
        }),
        e: cdr(tenant, "call-e", { direction: CallDirection.OUTBOUND, startedAt: at(50), fromNumber: "1001" }),
      };
      const list = async (query: Omit<CdrQuery, "tenantId" | "limit" | "after">, limit = 50) =>
        (await listAll(store, { tenantId: tenant, limit, ...query })).ids;
      const ms = (seconds: number) => t0 + seconds * 1000;
      before(() => store.upsert(Object.values(calls)));

      it("by start time: from inclusive, before exclusive", async () => {
        assert.deepEqual(await list({ startedFrom: ms(20), startedBefore: ms(40) }), ["call-c", "call-b"]);
        assert.deepEqual(await list({ startedFrom: ms(40) }), ["call-e", "call-d"]);
        assert.deepEqual(await list({ startedBefore: ms(20) }), ["call-a"]);
        assert.deepEqual(await list({ startedFrom: ms(21), startedBefore: ms(29) }), []);
      });

      it("by direction", async () => {
        assert.deepEqual(await list({ direction: CallDirection.INBOUND }), ["call-d", "call-a"]);
        assert.deepEqual(await list({ direction: CallDirection.OUTBOUND }), ["call-e", "call-b"]);
        assert.deepEqual(await list({ direction: CallDirection.INTERNAL }), ["call-c"]);
      });

      it("by extension: the caller, one that rang, missed or answered", async () => {
        assert.deepEqual(await list({ extension: "1001" }), ["call-e", "call-c", "call-a"], "caller and answering");
        assert.deepEqual(await list({ extension: "1002" }), ["call-a"], "rang and missed");
        assert.deepEqual(await list({ extension: "1003" }), ["call-b"], "caller only");
        assert.deepEqual(await list({ extension: "1004" }), ["call-c"], "rang and answered");
        assert.deepEqual(await list({ extension: "1005" }), ["call-d"], "missed only");
        assert.deepEqual(await list({ extension: "100" }), [], "whole extensions only");
        assert.deepEqual(await list({ extension: "9999" }), []);
      });

      it("combined, and paged within the filter", async () => {
        assert.deepEqual(await list({ extension: "1001", direction: CallDirection.OUTBOUND }), ["call-e"]);
        assert.deepEqual(await list({ extension: "1001", startedFrom: ms(10), startedBefore: ms(50) }), [
          "call-c",
          "call-a",
        ]);
        const all = { extension: "1005", direction: CallDirection.INBOUND, startedFrom: ms(0), startedBefore: ms(60) };
        assert.deepEqual(await list(all), ["call-d"]);
        assert.deepEqual(await list({ ...all, direction: CallDirection.OUTBOUND }), []);
        assert.deepEqual(await list({ extension: "1001" }, 1), ["call-e", "call-c", "call-a"], "pages of 1");
        assert.deepEqual(await list({ startedFrom: ms(10), startedBefore: ms(50) }, 2), [
          "call-d",
          "call-c",
          "call-b",
          "call-a",
        ]);
      });
    });

    it("keeps tenants apart in get and list", async () => {
      const [one, two] = [newTenant(), newTenant()];
      const mine = cdr(one, "call-shared", { fromNumber: "1001", direction: CallDirection.OUTBOUND, startedAt: at(1) });
      const theirs = cdr(two, "call-shared", {
        fromNumber: "2001",
        direction: CallDirection.INBOUND,
        startedAt: at(2),
      });
      await store.upsert([mine, theirs, cdr(two, "call-theirs", { fromNumber: "1001", startedAt: at(3) })]);
      assertSameCdr(await store.get(one, "call-shared"), mine);
      assertSameCdr(await store.get(two, "call-shared"), theirs);
      assert.equal(await store.get(one, "call-theirs"), undefined);
      assert.deepEqual(ids((await store.list({ tenantId: one, limit: 10 })).cdrs), ["call-shared"]);
      assert.deepEqual(ids((await store.list({ tenantId: one, extension: "2001", limit: 10 })).cdrs), []);
      assert.deepEqual(ids((await store.list({ tenantId: one, extension: "1001", limit: 10 })).cdrs), ["call-shared"]);
      assert.deepEqual(ids((await store.list({ tenantId: two, limit: 10 })).cdrs), ["call-theirs", "call-shared"]);
      const paged = await listAll(store, { tenantId: two, limit: 1 });
      assert.deepEqual(paged.ids, ["call-theirs", "call-shared"]);
      assert.equal(await store.get(`${one}-other`, "call-shared"), undefined);
    });

    it("keeps apart tenants whose ids run into the CDR id", async () => {
      const base = newTenant();
      const joined = [
        cdr(base, "x/y", { answeredBy: "1" }),
        cdr(`${base}/x`, "y", { answeredBy: "2" }),
        cdr(base, "x:y", { answeredBy: "3" }),
        cdr(`${base}:x`, "y", { answeredBy: "4" }),
        cdr(`${base}%2Fx`, "y", { answeredBy: "5" }),
      ];
      await store.upsert(joined);
      for (const expected of joined) assertSameCdr(await store.get(expected.tenantId, expected.id), expected);
      assert.deepEqual(ids((await store.list({ tenantId: base, limit: 10 })).cdrs).sort(), ["x/y", "x:y"]);
      assert.deepEqual(ids((await store.list({ tenantId: `${base}/x`, limit: 10 })).cdrs), ["y"]);
    });

    it(`stores a batch of ${large.toLocaleString("en")} CDRs and lists them all`, { timeout: 60_000 }, async () => {
      const tenant = newTenant();
      const calls = Array.from({ length: large }, (_, i) =>
        cdr(tenant, `call-${String(i).padStart(4, "0")}`, {
          startedAt: at(Math.floor(i / 3)),
          direction: i % 2 ? CallDirection.INBOUND : CallDirection.OUTBOUND,
          answeredBy: `1${String(i % 50).padStart(3, "0")}`,
          variables: { CRM_ID: `crm-${i}` },
        }),
      );
      await store.upsert(calls);
      const { ids: listed } = await listAll(store, { tenantId: tenant, limit: 500 });
      assert.deepEqual(listed, newestFirst(calls.map((c, i) => ({ id: c.id, ms: t0 + Math.floor(i / 3) * 1000 }))));
      const last = calls.at(-1);
      assert.ok(last);
      assertSameCdr(await store.get(tenant, last.id), last);
      // Some again, changed: replaced in place, still once each.
      const again = calls.slice(0, 150).map((c) => Object.assign(clone(CdrSchema, c), { answeredBy: "1999" }));
      await store.upsert(again);
      assert.equal(
        (await listAll(store, { tenantId: tenant, limit: 500 })).ids.length,
        large,
        "stored again, still once",
      );
      const replaced = await listAll(store, { tenantId: tenant, extension: "1999", limit: 500 });
      assert.equal(replaced.ids.length, 150);
    });
  });
}
