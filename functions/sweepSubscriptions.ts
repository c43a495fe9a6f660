import "../index.js";
import { app } from "@azure/functions";
import { subscriptionLifecycleHandler } from "../shared/subscriptions/handlers.js";

// Lifecycle notifications that no change causes: reauthorizationRequired before a subscription expires, and
// subscriptionRemoved for subscriptions of tenants the API no longer accepts.
app.timer("sweepSubscriptions", {
  schedule: "%SUBSCRIPTION_LIFECYCLE_SCHEDULE%",
  handler: subscriptionLifecycleHandler,
});
