import "../index.js";
import { app } from "@azure/functions";
import { config } from "../shared/config.js";
import { CHANGE_FEED_RETRY, changeFeedHandler } from "../shared/events/changeFeed.js";
import { deadLetterChanges } from "../shared/subscriptions/deadLetteredChanges.js";
import { deliverNotificationsHandler } from "../shared/subscriptions/handlers.js";

// Change notifications come from the change feed, as the completion events do: no dual write. Its own lease
// prefix, so it reads the feed independently of publishCompletionEvents. A failure (the store or the delivery
// queue unavailable) is retried for 18 minutes, then the changes go to the delivery queue's poison queue: delivery
// is at least once, and never stalls the lease.
app.cosmosDB("deliverNotifications", {
  connection: "COSMOS",
  databaseName: "%COSMOS_DATABASE%",
  containerName: "%COSMOS_CONTAINER%",
  leaseContainerName: "leases",
  leaseContainerPrefix: "notifications-",
  createLeaseContainerIfNotExists: false,
  retry: CHANGE_FEED_RETRY,
  handler: changeFeedHandler({
    name: "deliverNotifications",
    handle: deliverNotificationsHandler,
    deadLetter: (documents, error) => deadLetterChanges(config().subscriptions.deliveryQueue, documents, error),
  }),
});
