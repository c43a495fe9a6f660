// The peer's entry, as a quickstart writes one: the app's one Cosmos DB client and container, and an AJV validator of
// the body compiled at start-up. Nothing of the product but its Cosmos client options (the same retry budget and
// endpoint discovery, so both apps talk to the store alike).
import { randomUUID } from "node:crypto";
import { app } from "@azure/functions";
import { CosmosClient } from "@azure/cosmos";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { cosmosClientOptions } from "../../dist/shared/store/cosmos.js";

app.setup({ enableHttpStream: false });

const endpoint = process.env.COSMOS_ENDPOINT;
const client = new CosmosClient({ endpoint, key: process.env.COSMOS_KEY, ...cosmosClientOptions(endpoint) });
export const container = client
  .database(process.env.COSMOS_DATABASE ?? "teamops")
  .container(process.env.COSMOS_CONTAINER ?? "operations");

const nullableString = { type: ["string", "null"] };
const ajv = new Ajv({ allErrors: true });
addFormats.default(ajv);
/** The body of a create: Graph's teamsAsyncOperation properties a client sets, nothing else. */
export const validateOperation = ajv.compile({
  type: "object",
  additionalProperties: false,
  required: ["operationType"],
  properties: {
    operationType: {
      enum: [
        ["invalid", "cloneTeam", "archiveTeam", "unarchiveTeam", "createTeam"],
        ["teamifyGroup", "createChannel", "archiveChannel", "unarchiveChannel"],
      ].flat(),
    },
    status: { enum: ["invalid", "notStarted", "inProgress", "succeeded", "failed"] },
    lastActionDateTime: { type: "string", format: "date-time" },
    attemptsCount: { type: "integer", minimum: 0 },
    targetResourceId: nullableString,
    targetResourceLocation: nullableString,
    error: {
      type: ["object", "null"],
      additionalProperties: false,
      required: ["code"],
      properties: { code: { type: "string" }, message: nullableString },
    },
  },
});
export const errorsOf = (validate) => ajv.errorsText(validate.errors);
export const newId = randomUUID;
