import { describe, expect, it } from "vitest";
import { toRepresentation, type OperationDocument } from "../../../shared/operations/model.js";
import { newOperationDocument } from "../../../shared/operations/rules.js";

const context = {
  tenantId: "d0d0d0d0-0000-4000-8000-000000000001",
  teamId: "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f",
  createdBy: { kind: "application" as const, objectId: "sp", appId: "app" },
  ttlSeconds: 86_400,
  now: new Date("2026-11-28T19:14:46.165Z"),
};

describe("the representation", () => {
  it("shows public properties only, in Graph's order", () => {
    const doc = newOperationDocument({ operationType: "cloneTeam", id: "job-1" }, context);
    const withSystemFields = { ...doc, _rid: "x", _etag: "y", _ts: 1 } as OperationDocument;
    expect(toRepresentation(withSystemFields, { includeUnknownEnumMembers: false })).toEqual({
      id: "job-1",
      operationType: "cloneTeam",
      createdDateTime: "2026-11-28T19:14:46.1650000Z",
      status: "notStarted",
      lastActionDateTime: "2026-11-28T19:14:46.1650000Z",
      attemptsCount: 0,
      targetResourceId: null,
      targetResourceLocation: null,
      error: null,
    });
  });

  it("stores the tenant-scoped id, the team and the creator, and keeps client timestamps to the tick", () => {
    const doc = newOperationDocument(
      { operationType: "archiveTeam", id: "job-2", lastActionDateTime: "2026-11-28T22:16:44.8542569+03:00" },
      context,
    );
    expect(doc).toMatchObject({
      id: `${context.tenantId}:job-2`,
      operationId: "job-2",
      teamId: context.teamId,
      tenantId: context.tenantId,
      createdBy: context.createdBy,
      lastActionDateTime: "2026-11-28T19:16:44.8542569Z",
    });
    expect(doc.ttl).toBeUndefined();
  });

  it("gives finished operations a TTL", () => {
    expect(
      newOperationDocument({ operationType: "cloneTeam", status: "failed", error: { code: "x" } }, context).ttl,
    ).toBe(86_400);
  });

  it("folds evolvable enum members to unknownFutureValue unless the client opted in", () => {
    const doc = newOperationDocument({ operationType: "archiveChannel" }, context);
    expect(toRepresentation(doc, { includeUnknownEnumMembers: false }).operationType).toBe("unknownFutureValue");
    expect(toRepresentation(doc, { includeUnknownEnumMembers: true }).operationType).toBe("archiveChannel");
  });

  it("returns error as {code, message} without @odata.type", () => {
    const doc = newOperationDocument({ operationType: "cloneTeam", error: { code: "c" } }, context);
    expect(toRepresentation(doc, { includeUnknownEnumMembers: false }).error).toEqual({ code: "c", message: null });
  });
});
