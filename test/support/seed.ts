/** The example request body of Graph's generated reference for creating operations, as it gives it. */
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
