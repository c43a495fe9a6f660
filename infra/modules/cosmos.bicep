metadata name = 'Cosmos DB for NoSQL'
metadata description = 'The account, the database and the containers of the Team Operations API. Key (local) authentication is off: the app and people reach the data plane only through Cosmos DB RBAC with Microsoft Entra ID.'

@description('Required. Name of the Cosmos DB account (3-44 lowercase letters, digits and hyphens).')
@minLength(3)
@maxLength(44)
param name string

@description('Required. Azure region of the account (its only write region).')
param location string

@description('Optional. Tags applied to the account.')
param tags tagsType = {}

@description('Required. Name of the SQL database.')
param databaseName string

@description('Required. Name of the container of operations (partition key /teamId).')
param containerName string

@description('Required. Name of the container of change-notification subscriptions (partition key /resourceKey).')
param subscriptionsContainerName string

@description('Required. Name of the lease container of the change-feed trigger (partition key /id).')
param leasesContainerName string

@description('Optional. Disabled: reachable only through private endpoints (the private-network mode).')
param publicNetworkAccess publicNetworkAccessType = 'Enabled'

@description('Optional. Capacity: serverless (pay per request, the default) or provisioned autoscale throughput shared by the database.')
param capacity capacityType = {
  mode: 'Serverless'
}

@description('Tags: string keys and values.')
type tagsType = {
  *: string
}

@description('Whether the account accepts traffic from public networks.')
type publicNetworkAccessType = 'Enabled' | 'Disabled'

@export()
@description('Pay per request units consumed; nothing is billed for throughput while idle.')
type serverlessCapacityType = {
  @description('Required. Serverless account.')
  mode: 'Serverless'
}

@export()
@description('Provisioned autoscale throughput, shared by the containers of the database; it scales between 10% of the maximum and the maximum.')
type autoscaleCapacityType = {
  @description('Required. Provisioned autoscale account.')
  mode: 'Autoscale'

  @description('Required. Maximum RU/s of the shared database throughput (a multiple of 1000).')
  @minValue(1000)
  maxThroughput: int
}

@export()
@discriminator('mode')
@description('Capacity mode of the account.')
type capacityType = serverlessCapacityType | autoscaleCapacityType

// The indexing policy of the operations container: shared/store/operationsIndexingPolicy.json,
// the file the local embedded store is created with too. It indexes exactly what the store's
// queries use (shared/store/operationStore.ts; test/infra/indexing.test.ts checks every query
// shape against it): range indexes on the team scope (tenantId, and teamId, the partition key,
// which an opt-in policy does not index by itself), on every $filter property, and composite
// indexes for the scope with each $orderby property, the scope alone ($count) and the
// sweeper's status with lastActionDateTime. Everything else (error, targetResource*,
// createdBy, attemptsCount, ttl, ...) is excluded: each indexed path costs request units on
// every write. Point reads by (id, teamId) need no index at all.
var operationsIndexingPolicy = loadJsonContent('../../shared/store/operationsIndexingPolicy.json')

resource account 'Microsoft.DocumentDB/databaseAccounts@2026-03-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: capacity.mode == 'Serverless' ? [{ name: 'EnableServerless' }] : []
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: publicNetworkAccess
    enableAutomaticFailover: false
    enableMultipleWriteLocations: false
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous7Days'
      }
    }
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2026-03-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: capacity.mode == 'Autoscale' ? { autoscaleSettings: { maxThroughput: capacity.maxThroughput } } : {}
  }
}

resource operationsContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2026-03-15' = {
  parent: database
  name: containerName
  properties: {
    resource: {
      id: containerName
      // Every read and write names the team: all of a team's operations live in one logical
      // partition, and point reads by (id, teamId) cost 1 RU. The app depends on this path.
      partitionKey: {
        paths: [
          '/teamId'
        ]
        kind: 'Hash'
        version: 2
      }
      // -1: TTL is on but nothing expires unless a document carries its own "ttl"
      // (the app sets one when an operation finishes).
      defaultTtl: -1
      indexingPolicy: operationsIndexingPolicy
    }
  }
}

resource subscriptionsContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2026-03-15' = {
  parent: database
  name: subscriptionsContainerName
  properties: {
    resource: {
      id: subscriptionsContainerName
      // {tenantId}:{teamId}: delivery finds the subscriptions of a changed operation in one
      // logical partition. The app depends on this path.
      partitionKey: {
        paths: [
          '/resourceKey'
        ]
        kind: 'Hash'
        version: 2
      }
      // Every subscription carries a "ttl" that ends at its expiration (renewal resets it).
      defaultTtl: -1
    }
  }
}

resource leasesContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2026-03-15' = {
  parent: database
  name: leasesContainerName
  properties: {
    resource: {
      id: leasesContainerName
      // The partition key the Functions Cosmos DB extension expects of a lease container.
      partitionKey: {
        paths: [
          '/id'
        ]
        kind: 'Hash'
        version: 2
      }
    }
  }
}

@description('The name of the account.')
output name string = account.name

@description('The resource id of the account.')
output resourceId string = account.id

@description('Whether the account accepts traffic from public networks.')
output publicNetworkAccess string = account.properties.publicNetworkAccess

@description('The document endpoint of the account (https://<account>.documents.azure.com:443/).')
output endpoint string = account.properties.documentEndpoint

@description('The name of the database.')
output databaseName string = database.name

@description('The name of the container of operations.')
output containerName string = operationsContainer.name

@description('The name of the container of subscriptions.')
output subscriptionsContainerName string = subscriptionsContainer.name

@description('The name of the lease container.')
output leasesContainerName string = leasesContainer.name
