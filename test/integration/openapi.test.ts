/**
 * The descriptions of the API, from the built app loaded as the Functions
 * host loads it: the OpenAPI document is valid OpenAPI (checked by
 * @readme/openapi-parser), its paths are exactly the registered routes,
 * docs/openapi.json is what the app serves (npm run openapi writes it), and
 * the CSDL says what the validators accept.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { validate } from "@readme/openapi-parser";
import { XMLParser } from "fast-xml-parser";
import { beforeAll, describe, expect, it } from "vitest";
import type { RegisteredFunction } from "../../local/functionsHost.js";
import { builtApp, OPENAPI_FILE, servedOpenApi } from "../../scripts/openapi.js";
import { openApiPath } from "../../shared/http/openapi.js";
import { csdlDocument } from "../../shared/operations/csdl.js";
import { OPERATION_STATUSES, OPERATION_TYPES } from "../../shared/operations/model.js";
import { toSubscriptionRepresentation, type SubscriptionDocument } from "../../shared/subscriptions/model.js";
import { SUBSCRIPTION_LIMITS } from "../../shared/subscriptions/schemas.js";
import { acceptedComparisons, acceptedSorts } from "../support/queryShapes.js";
import { PROJECT_ROOT } from "../support/stack.js";

const subscriptionDocument: SubscriptionDocument = {
  id: "7f1d0b7e-5c1a-4a8e-9d3b-2f6c8e4a1b90",
  resourceKey: "t:team",
  tenantId: "t",
  teamId: "team",
  operationId: null,
  resource: "teams/team/operations",
  teamPath: "teams",
  changeTypes: ["created"],
  notificationUrl: "https://hooks.contoso.com/a",
  lifecycleNotificationUrl: null,
  clientState: null,
  expirationDateTime: "2026-06-02T00:00:00.0000000Z",
  createdDateTime: "2026-06-01T00:00:00.0000000Z",
  creator: { kind: "application", id: "app" },
  applicationId: null,
  latestSupportedTlsVersion: "v1_2",
  ttl: 1,
};

let served: string;
let document: any;
let http: RegisteredFunction[];

beforeAll(async () => {
  served = await servedOpenApi();
  document = JSON.parse(served);
  http = (await builtApp()).filter((f) => f.trigger.type === "httpTrigger");
});

describe("the OpenAPI description", () => {
  it("is valid OpenAPI 3", async () => {
    const result = await validate(structuredClone(document));
    expect(result.valid, JSON.stringify(result)).toBe(true);
    expect(result.warnings).toEqual([]);
    expect(document.openapi).toMatch(/^3\./);
  });

  it("has exactly the registered routes as paths, each with exactly its methods", () => {
    const registered = http.filter((f) => f.name !== "fallback");
    const expected = new Map<string, string[]>();
    for (const fn of registered) {
      const path = openApiPath(String(fn.trigger.route));
      expected.set(path, [
        ...(expected.get(path) ?? []),
        ...(fn.trigger.methods as string[]).map((m) => m.toLowerCase()),
      ]);
    }
    expect(Object.keys(document.paths).sort()).toEqual([...expected.keys()].sort());
    for (const [path, methods] of expected) expect(Object.keys(document.paths[path]).sort()).toEqual(methods.sort());
  });

  it("names path parameters and operations as Graph's OpenAPI does, each operationId once", () => {
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        "/teams/{team-id}/operations/{teamsAsyncOperation-id}",
        "/groups/{group-id}/team/operations/$count",
        "/users/{user-id}/joinedTeams/{team-id}/operations",
        "/subscriptions/{subscription-id}/reauthorize",
      ]),
    );
    const ids = Object.values(document.paths).flatMap((item: any) =>
      Object.values(item).map((op: any) => op.operationId as string),
    );
    expect(new Set(ids).size).toBe(ids.length);
    // microsoftgraph/msgraph-metadata, openapi/v1.0/openapi.yaml.
    const graphs = (prefix: string, count: string) => [
      `${prefix}.ListOperations`,
      `${prefix}.CreateOperations`,
      `${prefix}.GetOperations`,
      `${prefix}.UpdateOperations`,
      `${prefix}.DeleteOperations`,
      count,
    ];
    expect(ids).toEqual(
      expect.arrayContaining([
        ...graphs("teams", "teams.operations.GetCount-66af"),
        ...graphs("me.joinedTeams", "me.joinedTeams.operations.GetCount-e702"),
        ...graphs("groups.team", "groups.team.operations.GetCount-6921"),
        ...graphs("users.joinedTeams", "users.joinedTeams.operations.GetCount-5268"),
        "subscriptions.subscription.ListSubscription",
        "subscriptions.subscription.CreateSubscription",
        "subscriptions.subscription.GetSubscription",
        "subscriptions.subscription.UpdateSubscription",
        "subscriptions.subscription.DeleteSubscription",
        "subscriptions.subscription.reauthorize",
      ]),
    );
    const get = document.paths["/teams/{team-id}/operations/{teamsAsyncOperation-id}"].get;
    expect(get.parameters.slice(0, 2).map((p: any) => p.name)).toEqual(["team-id", "teamsAsyncOperation-id"]);
  });

  it("requires no property of an operation in an answer, which $select may leave out; keeps the schemas' own", () => {
    const schemas = document.components.schemas;
    const entity = schemas["microsoft.graph.teamsAsyncOperation"];
    expect(JSON.stringify(entity)).not.toContain('"required"');
    expect(Object.keys(entity.allOf[1].properties)).toEqual(expect.arrayContaining(["id", "status", "error"]));
    expect(schemas["microsoft.graph.createTeamsAsyncOperation"].required).toEqual(["operationType"]);
    expect(schemas["microsoft.graph.updateTeamsAsyncOperation"].required).toBeUndefined();
  });

  it("is what docs/openapi.json holds (run npm run openapi after changing routes or schemas)", () => {
    expect(readFileSync(join(PROJECT_ROOT, OPENAPI_FILE), "utf8")).toBe(served);
  });

  it("takes its request bodies from the validators' schemas and names Graph's types", () => {
    const schemas = document.components.schemas;
    expect(schemas["microsoft.graph.createTeamsAsyncOperation"].required).toEqual(["operationType"]);
    expect(Object.keys(schemas["microsoft.graph.updateTeamsAsyncOperation"].properties)).not.toContain("id");
    expect(schemas["microsoft.graph.teamsAsyncOperationType"].enum).toEqual([...OPERATION_TYPES]);
    expect(schemas["microsoft.graph.teamsAsyncOperationStatus"].enum).toEqual([...OPERATION_STATUSES]);
    const create = document.paths["/teams/{team-id}/operations"].post;
    expect(create.requestBody.content["application/json"].schema.$ref).toBe(
      "#/components/schemas/microsoft.graph.createTeamsAsyncOperation",
    );
    expect(document.paths["/$metadata"].get.security).toEqual([]);
    expect(document.paths["/teams/{team-id}/operations/{teamsAsyncOperation-id}"].get.security).toBeUndefined();
  });
});

describe("the CSDL", () => {
  const parsed = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "",
    isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
  }).parse(csdlDocument());
  const schema = parsed["edmx:Edmx"][0]["edmx:DataServices"][0].Schema[0];
  const byName = (list: any[], name: string) => list.find((e) => e.Name === name);

  it("is well-formed XML in the microsoft.graph namespace", () => {
    expect(parsed["edmx:Edmx"][0].Version).toBe("4.0");
    expect(schema.Namespace).toBe("microsoft.graph");
    expect(schema.Alias).toBe("graph");
  });

  it("declares both enums with Graph's members, order and values", () => {
    const members = (name: string) => byName(schema.EnumType, name).Member.map((m: any) => [m.Name, Number(m.Value)]);
    expect(members("teamsAsyncOperationType")).toEqual(OPERATION_TYPES.map((m, i) => [m, i]));
    expect(members("teamsAsyncOperationStatus")).toEqual(OPERATION_STATUSES.map((m, i) => [m, i]));
  });

  it("declares teamsAsyncOperation as an open entity type with the validators' types, nullability and roles", () => {
    const type = byName(schema.EntityType, "teamsAsyncOperation");
    expect(type.OpenType).toBe("true");
    expect(type.BaseType).toBe("graph.entity");
    const property = (name: string) => byName(type.Property, name);
    expect(property("attemptsCount")).toMatchObject({ Type: "Edm.Int32", Nullable: "false" });
    expect(property("lastActionDateTime")).toMatchObject({ Type: "Edm.DateTimeOffset", Nullable: "false" });
    expect(property("targetResourceId")).toMatchObject({ Type: "Edm.String", MaxLength: "1024" });
    expect(property("targetResourceId").Nullable).toBeUndefined();
    expect(property("error").Type).toBe("graph.operationError");
    expect(property("status").Type).toBe("graph.teamsAsyncOperationStatus");
    expect(property("createdDateTime").Annotation[0].Term).toBe("Org.OData.Core.V1.Computed");
    expect(property("operationType").Annotation[0].Term).toBe("Org.OData.Core.V1.Immutable");
    expect(property("status").Annotation).toBeUndefined();
    expect(byName(schema.ComplexType, "operationError").Property.map((p: any) => p.Name)).toEqual(["code", "message"]);
  });

  it("declares Graph's subscription type: what the representation carries, Graph's types, the schemas' lengths and roles", () => {
    const type = byName(schema.EntityType, "subscription");
    expect(type.BaseType).toBe("graph.entity");
    expect(type.OpenType).toBeUndefined();
    const represented = Object.keys(toSubscriptionRepresentation(subscriptionDocument)).filter((k) => k !== "id");
    expect(type.Property.map((p: any) => p.Name).sort()).toEqual(represented.sort());
    const property = (name: string) => byName(type.Property, name);
    // Graph v1.0 (microsoftgraph/msgraph-metadata): these four are Nullable="false", expirationDateTime a
    // DateTimeOffset, includeResourceData a Boolean, every other a nullable String.
    for (const name of ["changeType", "notificationUrl", "resource"]) {
      expect(property(name)).toMatchObject({ Type: "Edm.String", Nullable: "false" });
    }
    expect(property("expirationDateTime")).toMatchObject({ Type: "Edm.DateTimeOffset", Nullable: "false" });
    expect(property("includeResourceData")).toMatchObject({ Type: "Edm.Boolean" });
    for (const name of [
      "applicationId",
      "clientState",
      "creatorId",
      "lifecycleNotificationUrl",
      "notificationUrlAppId",
    ]) {
      expect(property(name).Type, name).toBe("Edm.String");
      expect(property(name).Nullable, name).toBeUndefined();
    }
    expect(property("clientState").MaxLength).toBe(String(SUBSCRIPTION_LIMITS.clientState));
    const term = (name: string) => property(name).Annotation?.[0].Term;
    expect(term("creatorId")).toBe("Org.OData.Core.V1.Computed");
    expect(term("applicationId")).toBe("Org.OData.Core.V1.Computed");
    expect(term("resource")).toBe("Org.OData.Core.V1.Immutable");
    // Set on create only: Immutable.
    for (const name of ["notificationQueryOptions", "notificationUrlAppId", "includeResourceData"]) {
      expect(term(name), name).toBe("Org.OData.Core.V1.Immutable");
    }
    // Renewal changes the expiration, and with it the encryption certificate (a rotation): the updatable ones.
    expect(type.Property.filter((p: any) => !p.Annotation).map((p: any) => p.Name)).toEqual([
      "encryptionCertificate",
      "encryptionCertificateId",
      "expirationDateTime",
    ]);
  });

  it("declares Graph's reauthorize action, bound to a subscription", () => {
    expect(schema.Action).toEqual([
      { Name: "reauthorize", IsBound: "true", Parameter: [{ Name: "bindingParameter", Type: "graph.subscription" }] },
    ]);
  });

  it("exposes the entity sets and navigation the routes use", () => {
    const container = schema.EntityContainer[0];
    expect(container.EntitySet.map((s: any) => s.Name)).toEqual(["teams", "groups", "users", "subscriptions"]);
    expect(byName(container.EntitySet, "subscriptions").EntityType).toBe("graph.subscription");
    expect(container.Singleton.map((s: any) => s.Name)).toEqual(["me"]);
    expect(byName(schema.EntityType, "team").NavigationProperty[0]).toMatchObject({
      Name: "operations",
      Type: "Collection(graph.teamsAsyncOperation)",
      ContainsTarget: "true",
    });
    expect(byName(schema.EntityType, "user").NavigationProperty.map((n: any) => n.Name)).toEqual([
      "joinedTeams",
      "joinedGroups",
    ]);
  });

  it("contains a group's team and a user's joined teams, as Graph's CSDL does, and binds no contained navigation", () => {
    const navigation = (type: string, name: string) => byName(byName(schema.EntityType, type).NavigationProperty, name);
    expect(navigation("group", "team")).toMatchObject({ Type: "graph.team", ContainsTarget: "true" });
    expect(navigation("user", "joinedTeams")).toMatchObject({ ContainsTarget: "true" });
    expect(navigation("user", "joinedGroups").ContainsTarget).toBeUndefined();
    const container = schema.EntityContainer[0];
    const bindings = [...container.EntitySet, ...container.Singleton].flatMap((s: any) =>
      (s.NavigationPropertyBinding ?? []).map((b: any) => `${s.Name}/${b.Path}`),
    );
    expect(bindings).toEqual(["users/joinedGroups", "me/joinedGroups"]);
  });

  describe("Capabilities annotations", () => {
    const terms = (target: string) => {
      const annotations = schema.Annotations.find((a: any) => a.Target === `microsoft.graph.${target}`);
      return Object.fromEntries(
        annotations.Annotation.map((a: any) => [
          a.Term.replace("Org.OData.Capabilities.V1.", ""),
          a.Bool !== undefined
            ? a.Bool === "true"
            : Object.fromEntries(
                a.Record[0].PropertyValue.map((v: any) => [
                  v.Property,
                  v.Bool !== undefined ? v.Bool === "true" : v.Collection[0].PropertyPath,
                ]),
              ),
        ]),
      );
    };

    it("references the Capabilities vocabulary", () => {
      const references = parsed["edmx:Edmx"][0]["edmx:Reference"].map((r: any) => r["edmx:Include"][0].Namespace);
      expect(references).toEqual(["Org.OData.Core.V1", "Org.OData.Capabilities.V1"]);
    });

    it("says of subscriptions what Graph's CSDL says: no query options", () => {
      expect(terms("subscription")).toEqual({
        CountRestrictions: { Countable: false },
        ExpandRestrictions: { Expandable: false },
        FilterRestrictions: { Filterable: false },
        NavigationRestrictions: { Referenceable: false },
        SelectSupport: { Supported: false },
        SkipSupported: false,
        SortRestrictions: { Sortable: false },
        TopSupported: false,
      });
    });

    it("says of operations exactly what the OData parser accepts: what filters, sorts and counts", () => {
      const operations = terms("teamsAsyncOperation");
      expect(operations).toMatchObject({
        CountRestrictions: { Countable: true },
        ExpandRestrictions: { Expandable: false },
        SearchRestrictions: { Searchable: false },
        SelectSupport: { Supported: true },
        SkipSupported: false,
        TopSupported: true,
      });
      const filterable = new Set(acceptedComparisons().map((c) => c.property));
      const sortable = new Set(acceptedSorts().flatMap((s) => s.map((k) => k.property)));
      const properties = ["id", ...byName(schema.EntityType, "teamsAsyncOperation").Property.map((p: any) => p.Name)];
      expect(operations.FilterRestrictions).toEqual({
        Filterable: true,
        NonFilterableProperties: properties.filter((p) => !filterable.has(p)),
      });
      expect(operations.SortRestrictions).toEqual({
        Sortable: true,
        NonSortableProperties: properties.filter((p) => !sortable.has(p)),
      });
    });

    it("expands nothing from the entity sets and the singleton the routes start from", () => {
      for (const root of ["teams", "groups", "users", "me"]) {
        expect(terms(`GraphService/${root}`), root).toEqual({ ExpandRestrictions: { Expandable: false } });
      }
    });
  });
});
