/**
 * The example request body of Graph's generated reference for creating operations ("Add operations"), as it gives
 * it, with its two enum placeholders ("String") replaced by real members.
 */
export const SEED_BODY = {
  "@odata.type": "#microsoft.graph.teamsAsyncOperation",
  operationType: "archiveTeam",
  status: "inProgress",
  lastActionDateTime: "2016-12-31T23:56:44.8542569+03:00",
  attemptsCount: 13,
  targetResourceId: "Target Resource Id value",
  targetResourceLocation: "Target Resource Location value",
  error: { "@odata.type": "microsoft.graph.operationError", code: "Code value", message: "Message value" },
} as const;

/**
 * The example response of the same page: what a create of SEED_BODY answers (the server sets `id` and
 * `createdDateTime`; every other property is what the request sent).
 */
export const SEED_RESPONSE = {
  "@odata.type": "#microsoft.graph.teamsAsyncOperation",
  id: "6cf4e0b1-e0b1-6cf4-b1e0-f46cb1e0f46c",
  operationType: "String",
  createdDateTime: "2017-01-01T00:00:46.1697867+03:00",
  status: "String",
  lastActionDateTime: "2016-12-31T23:56:44.8542569+03:00",
  attemptsCount: 13,
  targetResourceId: "Target Resource Id value",
  targetResourceLocation: "Target Resource Location value",
  error: { "@odata.type": "microsoft.graph.operationError", code: "Code value", message: "Message value" },
} as const;

/** The two enum placeholders of the page's example ("String"), replaced by real members. */
export function seedBodyWith(operationType: string, status: string): Record<string, unknown> {
  return { ...SEED_BODY, operationType, status };
}
