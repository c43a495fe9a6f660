import "../index.js";
import { renewSubscription } from "../shared/api/subscriptions.js";
import { callerRoute } from "../shared/http/pipeline.js";
import { httpRoute } from "../shared/http/routes.js";
import { SUBSCRIPTION_OPENAPI } from "../shared/subscriptions/openapi.js";

httpRoute("updateSubscription", {
  methods: ["PATCH"],
  route: "subscriptions/{subscriptionId}",
  handler: callerRoute(renewSubscription),
  info: { summary: "Renew a subscription (a new expirationDateTime).", openApi: SUBSCRIPTION_OPENAPI.update },
});
