import "../index.js";
import { createOperation } from "../shared/api/operations.js";
import { graphRoute } from "../shared/http/pipeline.js";
import { httpRoute } from "../shared/http/routes.js";

// One handler behind the four create routes. The `$ref` forms are the seed
// document's routes, kept as documented aliases of the collection POST.
const teams = graphRoute({ access: "write", viaMe: false }, createOperation);
const me = graphRoute({ access: "write", viaMe: true }, createOperation);

httpRoute("createOperation", {
  methods: ["POST"],
  route: "teams/{teamId}/operations",
  handler: teams,
});
httpRoute("createOperationRef", {
  methods: ["POST"],
  route: "teams/{teamId}/operations/$ref",
  handler: teams,
});
httpRoute("createMyOperation", {
  methods: ["POST"],
  route: "me/joinedGroups/{groupId}/team/operations",
  handler: me,
});
httpRoute("createMyOperationRef", {
  methods: ["POST"],
  route: "me/joinedGroups/{groupId}/team/operations/$ref",
  handler: me,
});
