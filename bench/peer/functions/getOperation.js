// GET /v1.0/teams/{teamId}/operations/{id}: one point read by id and team.
import { app } from "@azure/functions";
import { container } from "../index.js";

app.http("getOperation", {
  methods: ["GET"],
  authLevel: "anonymous",
  route: "teams/{teamId}/operations/{id}",
  handler: async (request) => {
    const { resource } = await container.item(request.params.id, request.params.teamId).read();
    return resource ? { status: 200, jsonBody: resource } : { status: 404, jsonBody: { error: "Not found." } };
  },
});
