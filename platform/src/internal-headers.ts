/**
 * Headers on requests between our own services. The gateway authenticates the CRM and
 * forwards the tenant it resolved; each service re-checks that one is present.
 */
export const tenantIdHeader = "x-callmesh-tenant-id";
