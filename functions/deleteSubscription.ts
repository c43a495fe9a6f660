import "../index.js";
import { deleteSubscription } from "../shared/api/subscriptions.js";
import { callerRoute } from "../shared/http/pipeline.js";
import { httpRoute } from "../shared/http/routes.js";
import { SUBSCRIPTION_OPENAPI } from "../shared/subscriptions/openapi.js";

httpRoute("deleteSubscription", {
  methods: ["DELETE"],
  route: "subscriptions/{subscriptionId}",
  handler: callerRoute(deleteSubscription),
  info: { summary: "Delete a subscription: its notifications stop.", openApi: SUBSCRIPTION_OPENAPI.delete },
});
