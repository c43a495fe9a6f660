// POST /v1.0/teams/{teamId}/operations: the body validated, one create in the team's partition, the document back.
import { app } from "@azure/functions";
import { container, errorsOf, newId, validateOperation } from "../index.js";

app.http("createOperation", {
  methods: ["POST"],
  authLevel: "anonymous",
  route: "teams/{teamId}/operations",
  handler: async (request) => {
    let body;
    try {
      body = await request.json();
    } catch {
      return { status: 400, jsonBody: { error: "The body is not JSON." } };
    }
    if (!validateOperation(body)) return { status: 400, jsonBody: { error: errorsOf(validateOperation) } };
    const now = new Date().toISOString();
    const { resource } = await container.items.create({
      id: newId(),
      teamId: request.params.teamId,
      status: "notStarted",
      attemptsCount: 0,
      ...body,
      createdDateTime: now,
      lastActionDateTime: body.lastActionDateTime ?? now,
    });
    return { status: 201, jsonBody: resource };
  },
});
