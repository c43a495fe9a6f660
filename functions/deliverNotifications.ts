import "../index.js";
import { app } from "@azure/functions";
import { deliverNotificationsHandler } from "../shared/subscriptions/handlers.js";

// Change notifications come from the change feed, as the completion events do: no dual write. Its own lease
// prefix, so it reads the feed independently of publishCompletionEvents. A failure (the store or the delivery
// queue unavailable) is retried: delivery is at least once.
app.cosmosDB("deliverNotifications", {
  connection: "COSMOS",
  databaseName: "%COSMOS_DATABASE%",
  containerName: "%COSMOS_CONTAINER%",
  leaseContainerName: "leases",
  leaseContainerPrefix: "notifications-",
  createLeaseContainerIfNotExists: false,
  retry: { strategy: "exponentialBackoff", maxRetryCount: -1, minimumInterval: 2_000, maximumInterval: 60_000 },
  handler: deliverNotificationsHandler,
});
