import "../index.js";
import { createSubscription } from "../shared/api/subscriptions.js";
import { callerRoute } from "../shared/http/pipeline.js";
import { httpRoute } from "../shared/http/routes.js";
import { SUBSCRIPTION_OPENAPI } from "../shared/subscriptions/openapi.js";

httpRoute("createSubscription", {
  methods: ["POST"],
  route: "subscriptions",
  handler: callerRoute(createSubscription),
  info: {
    summary: "Subscribe to changes of a team's operations (Graph's change notifications).",
    openApi: SUBSCRIPTION_OPENAPI.create,
  },
});
