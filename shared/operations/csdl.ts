/**
 * The CSDL (`GET /v1.0/$metadata`) of the `microsoft.graph` types this API
 * serves, generated from the JSON Schemas the validators are compiled from
 * (`schemas.ts`) and the enums of `model.ts`, so the metadata cannot say
 * anything the validators do not: each property's type, nullability and
 * length, which properties the server computes (in neither the create nor the
 * update schema) and which are immutable (create only), both enums with
 * Graph's members in Graph's order and values, and the entity sets and
 * navigation properties the routes expose. The `subscription` type is Graph's
 * v1.0 definition (its properties, types and nullability, as
 * microsoftgraph/msgraph-metadata has them), with the lengths and roles of
 * the subscription schemas.
 */
import { createSubscriptionSchema, updateSubscriptionSchema } from "../subscriptions/schemas.js";
import {
  FILTERABLE_PROPERTIES,
  OPERATION_STATUSES,
  OPERATION_TYPES,
  REPRESENTATION_PROPERTIES,
  SORTABLE_PROPERTIES,
} from "./model.js";
import { createOperationSchema, representationSchema, updateOperationSchema } from "./schemas.js";

/** The schema shapes the generator reads: JSON Schema keywords used in `schemas.ts`. */
interface PropertySchema {
  readonly type?: string | readonly string[];
  readonly enum?: readonly string[];
  readonly maxLength?: number;
  readonly maximum?: number;
  readonly allOf?: readonly { readonly format?: string }[];
  readonly properties?: Readonly<Record<string, PropertySchema>>;
}

export const NAMESPACE = "microsoft.graph";
export const ALIAS = "graph";

/** The enum type of each enum property, and its members (declaration order is the members' values). */
export const ENUM_TYPES = {
  operationType: { name: "teamsAsyncOperationType", members: OPERATION_TYPES },
  status: { name: "teamsAsyncOperationStatus", members: OPERATION_STATUSES },
} as const;

const COMPLEX_TYPES: Readonly<Record<string, string>> = { error: "operationError" };

function types(schema: PropertySchema): string[] {
  return schema.type === undefined ? [] : typeof schema.type === "string" ? [schema.type] : [...schema.type];
}

export function isNullable(schema: PropertySchema): boolean {
  return types(schema).includes("null");
}

export function isDateTime(schema: PropertySchema): boolean {
  return (schema.allOf ?? []).some((s) => s.format === "date-time");
}

/** The EDM type of a property of the representation. */
export function edmType(name: string, schema: PropertySchema): string {
  if (name in ENUM_TYPES) return `${ALIAS}.${ENUM_TYPES[name as keyof typeof ENUM_TYPES].name}`;
  if (COMPLEX_TYPES[name]) return `${ALIAS}.${COMPLEX_TYPES[name]}`;
  if (isDateTime(schema)) return "Edm.DateTimeOffset";
  const [type] = types(schema).filter((t) => t !== "null");
  if (type === "integer") {
    if (schema.maximum !== undefined && schema.maximum <= 2_147_483_647) return "Edm.Int32";
    return "Edm.Int64";
  }
  if (type === "string") return "Edm.String";
  throw new Error(`No EDM type for ${name}`);
}

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A `<Property>` with these facets, and its Core annotations (Computed, Immutable) inside it when it has any. */
function propertyXml(facets: readonly string[], annotations: readonly string[]): string {
  if (annotations.length === 0) return `<Property ${facets.join(" ")} />`;
  return [
    `<Property ${facets.join(" ")}>`,
    ...annotations.map((term) => `  <Annotation Term="Org.OData.Core.V1.${term}" Bool="true" />`),
    `</Property>`,
  ].join("\n");
}

function propertyElement(name: string, schema: PropertySchema, annotations: readonly string[] = []): string {
  const facets = [
    `Name="${escape(name)}"`,
    `Type="${edmType(name, schema)}"`,
    ...(isNullable(schema) ? [] : ['Nullable="false"']),
    ...(schema.maxLength !== undefined ? [`MaxLength="${schema.maxLength}"`] : []),
  ];
  return propertyXml(facets, annotations);
}

type Role = "computed" | "immutable" | "updatable";

/** Computed: the server sets it; Immutable: set on create only. Read from which schemas list the property. */
function roleIn(name: string, create: object, update: object): Role {
  if (!(name in create)) return "computed";
  return name in update ? "updatable" : "immutable";
}

export function propertyRole(name: string): Role {
  return roleIn(name, createOperationSchema.properties, updateOperationSchema.properties);
}

const roleAnnotations = (role: Role) =>
  role === "computed" ? ["Computed"] : role === "immutable" ? ["Immutable"] : [];

/** Graph's v1.0 `subscription` properties, in Graph's order, with its EDM types and nullability. */
export const SUBSCRIPTION_PROPERTIES: ReadonlyArray<{ name: string; type: string; nullable: boolean }> = [
  { name: "applicationId", type: "Edm.String", nullable: true },
  { name: "changeType", type: "Edm.String", nullable: false },
  { name: "clientState", type: "Edm.String", nullable: true },
  { name: "creatorId", type: "Edm.String", nullable: true },
  { name: "encryptionCertificate", type: "Edm.String", nullable: true },
  { name: "encryptionCertificateId", type: "Edm.String", nullable: true },
  { name: "expirationDateTime", type: "Edm.DateTimeOffset", nullable: false },
  { name: "includeResourceData", type: "Edm.Boolean", nullable: true },
  { name: "latestSupportedTlsVersion", type: "Edm.String", nullable: true },
  { name: "lifecycleNotificationUrl", type: "Edm.String", nullable: true },
  { name: "notificationQueryOptions", type: "Edm.String", nullable: true },
  { name: "notificationUrl", type: "Edm.String", nullable: false },
  { name: "notificationUrlAppId", type: "Edm.String", nullable: true },
  { name: "resource", type: "Edm.String", nullable: false },
];

/**
 * A subscription property: Graph's type and nullability; the length the create schema allows; Computed when a
 * client cannot set it (read-only, or not supported here), Immutable when only a create sets it.
 */
function subscriptionPropertyElement({ name, type, nullable }: (typeof SUBSCRIPTION_PROPERTIES)[number]): string {
  const create = createSubscriptionSchema.properties as Readonly<Record<string, PropertySchema>>;
  const maxLength = create[name]?.maxLength;
  const facets = [
    `Name="${name}"`,
    `Type="${type}"`,
    ...(nullable ? [] : ['Nullable="false"']),
    ...(maxLength !== undefined ? [`MaxLength="${maxLength}"`] : []),
  ];
  const annotations = roleAnnotations(roleIn(name, create, updateSubscriptionSchema.properties));
  return propertyXml(facets, annotations);
}

const CAPABILITIES = "Org.OData.Capabilities.V1";

/** One Capabilities term: a Bool, or a Record of property values (a Bool each, or a collection of property paths). */
function capability(term: string, value: boolean | Readonly<Record<string, boolean | readonly string[]>>): string {
  if (typeof value === "boolean") return `<Annotation Term="${CAPABILITIES}.${term}" Bool="${value}" />`;
  const values = Object.entries(value).map(([property, v]) =>
    typeof v === "boolean"
      ? `    <PropertyValue Property="${property}" Bool="${v}" />`
      : [
          `    <PropertyValue Property="${property}">`,
          `      <Collection>`,
          ...v.map((path) => `        <PropertyPath>${path}</PropertyPath>`),
          `      </Collection>`,
          `    </PropertyValue>`,
        ].join("\n"),
  );
  return [`<Annotation Term="${CAPABILITIES}.${term}">`, `  <Record>`, ...values, `  </Record>`, `</Annotation>`].join(
    "\n",
  );
}

function annotations(target: string, terms: readonly string[]): string {
  return [`<Annotations Target="${NAMESPACE}.${target}">`, ...terms.map((t) => indent(t, 2)), `</Annotations>`].join(
    "\n",
  );
}

/**
 * What a client may ask of each collection, in Graph's Capabilities terms. For `subscription`, Graph's own (no query
 * options), which this API shares; for `teamsAsyncOperation`, which Graph leaves unannotated, what this API serves:
 * `$filter` and `$orderby` on the indexed properties only, `$count`, `$select`, `$top`, no `$expand`, `$skip` or
 * `$search`. The entity sets the routes start from expand nothing.
 */
function capabilityAnnotations(): string[] {
  const others = (chosen: readonly string[]) => REPRESENTATION_PROPERTIES.filter((p) => !chosen.includes(p));
  const nothing = (target: string) => annotations(target, [capability("ExpandRestrictions", { Expandable: false })]);
  return [
    annotations("subscription", [
      capability("CountRestrictions", { Countable: false }),
      capability("ExpandRestrictions", { Expandable: false }),
      capability("FilterRestrictions", { Filterable: false }),
      capability("NavigationRestrictions", { Referenceable: false }),
      capability("SelectSupport", { Supported: false }),
      capability("SkipSupported", false),
      capability("SortRestrictions", { Sortable: false }),
      capability("TopSupported", false),
    ]),
    annotations("teamsAsyncOperation", [
      capability("CountRestrictions", { Countable: true }),
      capability("ExpandRestrictions", { Expandable: false }),
      capability("FilterRestrictions", { Filterable: true, NonFilterableProperties: others(FILTERABLE_PROPERTIES) }),
      capability("NavigationRestrictions", { Referenceable: false }),
      capability("SearchRestrictions", { Searchable: false }),
      capability("SelectSupport", { Supported: true }),
      capability("SkipSupported", false),
      capability("SortRestrictions", { Sortable: true, NonSortableProperties: others(SORTABLE_PROPERTIES) }),
      capability("TopSupported", true),
    ]),
    ...["teams", "groups", "users", "me"].map((root) => nothing(`GraphService/${root}`)),
  ];
}

const indent = (lines: string, by: number) =>
  lines
    .split("\n")
    .map((l) => `${" ".repeat(by)}${l}`)
    .join("\n");

/** The whole `$metadata` document. Pure: the same schemas give the same text. */
export function csdlDocument(): string {
  const properties = representationSchema.properties as Readonly<Record<string, PropertySchema>>;
  const enumTypes = Object.values(ENUM_TYPES).map(({ name, members }) =>
    [
      `<EnumType Name="${name}">`,
      ...members.map((member, value) => `  <Member Name="${member}" Value="${value}" />`),
      `</EnumType>`,
    ].join("\n"),
  );
  const operationProperties = Object.entries(properties)
    .filter(([name]) => name !== "id")
    .map(([name, schema]) => {
      return indent(propertyElement(name, schema, roleAnnotations(propertyRole(name))), 2);
    });
  const errorProperties = Object.entries(properties.error!.properties!)
    .filter(([name]) => !name.startsWith("@"))
    .map(([name, schema]) => indent(propertyElement(name, schema), 2));
  const idSchema = properties.id!;
  const schema = [
    ...enumTypes,
    [
      `<EntityType Name="entity" Abstract="true">`,
      `  <Key>`,
      `    <PropertyRef Name="id" />`,
      `  </Key>`,
      indent(propertyElement("id", idSchema, ["Immutable"]), 2),
      `</EntityType>`,
    ].join("\n"),
    [
      `<EntityType Name="teamsAsyncOperation" BaseType="${ALIAS}.entity" OpenType="true">`,
      ...operationProperties,
      `</EntityType>`,
    ].join("\n"),
    [`<ComplexType Name="operationError">`, ...errorProperties, `</ComplexType>`].join("\n"),
    [
      `<EntityType Name="subscription" BaseType="${ALIAS}.entity">`,
      ...SUBSCRIPTION_PROPERTIES.map((property) => indent(subscriptionPropertyElement(property), 2)),
      `</EntityType>`,
    ].join("\n"),
    [
      `<EntityType Name="team" BaseType="${ALIAS}.entity">`,
      `  <NavigationProperty Name="operations" Type="Collection(${ALIAS}.teamsAsyncOperation)" ContainsTarget="true" />`,
      `</EntityType>`,
    ].join("\n"),
    // A group's team and a user's joined teams are contained, as in Graph's CSDL: reached only through them.
    [
      `<EntityType Name="group" BaseType="${ALIAS}.entity">`,
      `  <NavigationProperty Name="team" Type="${ALIAS}.team" ContainsTarget="true" />`,
      `</EntityType>`,
    ].join("\n"),
    [
      `<EntityType Name="user" BaseType="${ALIAS}.entity">`,
      `  <NavigationProperty Name="joinedTeams" Type="Collection(${ALIAS}.team)" ContainsTarget="true" />`,
      `  <NavigationProperty Name="joinedGroups" Type="Collection(${ALIAS}.group)" />`,
      `</EntityType>`,
    ].join("\n"),
    // Graph's bound action `POST /subscriptions/{id}/reauthorize` (no parameters, no return type).
    [
      `<Action Name="reauthorize" IsBound="true">`,
      `  <Parameter Name="bindingParameter" Type="${ALIAS}.subscription" />`,
      `</Action>`,
    ].join("\n"),
    [
      `<EntityContainer Name="GraphService">`,
      `  <EntitySet Name="teams" EntityType="${ALIAS}.team" />`,
      `  <EntitySet Name="groups" EntityType="${ALIAS}.group" />`,
      `  <EntitySet Name="users" EntityType="${ALIAS}.user">`,
      `    <NavigationPropertyBinding Path="joinedGroups" Target="groups" />`,
      `  </EntitySet>`,
      `  <EntitySet Name="subscriptions" EntityType="${ALIAS}.subscription" />`,
      `  <Singleton Name="me" Type="${ALIAS}.user">`,
      `    <NavigationPropertyBinding Path="joinedGroups" Target="groups" />`,
      `  </Singleton>`,
      `</EntityContainer>`,
    ].join("\n"),
    ...capabilityAnnotations(),
  ];
  return [
    `<?xml version="1.0" encoding="utf-8"?>`,
    `<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">`,
    `  <edmx:Reference Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml">`,
    `    <edmx:Include Namespace="Org.OData.Core.V1" Alias="Core" />`,
    `  </edmx:Reference>`,
    `  <edmx:Reference Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Capabilities.V1.xml">`,
    `    <edmx:Include Namespace="Org.OData.Capabilities.V1" Alias="Capabilities" />`,
    `  </edmx:Reference>`,
    `  <edmx:DataServices>`,
    `    <Schema Namespace="${NAMESPACE}" Alias="${ALIAS}" xmlns="http://docs.oasis-open.org/odata/ns/edm">`,
    ...schema.map((element) => indent(element, 6)),
    `    </Schema>`,
    `  </edmx:DataServices>`,
    `</edmx:Edmx>`,
    ``,
  ].join("\n");
}
