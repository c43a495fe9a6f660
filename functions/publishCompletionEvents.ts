import "../index.js";
import { app } from "@azure/functions";
import { CHANGE_FEED_RETRY, changeFeedHandler } from "../shared/events/changeFeed.js";
import { completionEventsConsumer } from "../shared/events/handlers.js";

// The change feed, not the writer, announces completions: no dual write that could lose an event. A batch whose
// events cannot be sent is retried for 18 minutes, then its events go to the events queue's poison queue.
app.cosmosDB("publishCompletionEvents", {
  connection: "COSMOS",
  databaseName: "%COSMOS_DATABASE%",
  containerName: "%COSMOS_CONTAINER%",
  leaseContainerName: "leases",
  createLeaseContainerIfNotExists: false,
  retry: CHANGE_FEED_RETRY,
  handler: changeFeedHandler(completionEventsConsumer),
});
