import "../index.js";
import { app } from "@azure/functions";
import { createOperation } from "../shared/api/operations.js";
import { graphRoute } from "../shared/http/pipeline.js";

// One handler behind the four create routes. The `$ref` forms are the seed
// document's routes, kept as documented aliases of the collection POST.
const teams = graphRoute({ access: "write", viaMe: false }, createOperation);
const me = graphRoute({ access: "write", viaMe: true }, createOperation);

app.http("createOperation", {
  methods: ["POST"],
  authLevel: "anonymous",
  route: "teams/{teamId}/operations",
  handler: teams,
});
app.http("createOperationRef", {
  methods: ["POST"],
  authLevel: "anonymous",
  route: "teams/{teamId}/operations/$ref",
  handler: teams,
});
app.http("createMyOperation", {
  methods: ["POST"],
  authLevel: "anonymous",
  route: "me/joinedGroups/{groupId}/team/operations",
  handler: me,
});
app.http("createMyOperationRef", {
  methods: ["POST"],
  authLevel: "anonymous",
  route: "me/joinedGroups/{groupId}/team/operations/$ref",
  handler: me,
});
