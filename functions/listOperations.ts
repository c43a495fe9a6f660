import "../index.js";
import { app } from "@azure/functions";
import { listOperations } from "../shared/api/operations.js";
import { graphRoute } from "../shared/http/pipeline.js";

app.http("listOperations", {
  methods: ["GET"],
  authLevel: "anonymous",
  route: "teams/{teamId}/operations",
  handler: graphRoute({ access: "read", viaMe: false }, listOperations),
});
app.http("listMyOperations", {
  methods: ["GET"],
  authLevel: "anonymous",
  route: "me/joinedGroups/{groupId}/team/operations",
  handler: graphRoute({ access: "read", viaMe: true }, listOperations),
});
