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

@description('Required. Name of the lease container of the change-feed trigger (partition key /id).')
param leasesContainerName string

@description('Optional. Capacity: serverless (pay per request, the default) or provisioned autoscale throughput shared by the database.')
param capacity capacityType = {
  mode: 'Serverless'
}

@description('Tags: string keys and values.')
type tagsType = {
  *: string
}

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

// Index only the paths the API filters or sorts on (see includedPaths below); everything
// else (error, targetResourceId, targetResourceLocation, createdBy, attemptsCount, ttl, ...)
// is excluded: each indexed path costs request units on every write and index storage, and
// nothing ever queries those. Point reads by (id, teamId) need no index at all.
//
// A composite index serves "WHERE tenantId = @t ORDER BY tenantId, <time>" (both directions:
// Cosmos reads an ascending composite index backwards for DESC, DESC) and "status = @s AND
// lastActionDateTime < @deadline" far more cheaply than the single-path indexes do.
var compositeIndexes = [
  [
    { path: '/tenantId', order: 'ascending' }
    { path: '/createdDateTime', order: 'ascending' }
  ]
  [
    { path: '/tenantId', order: 'ascending' }
    { path: '/lastActionDateTime', order: 'ascending' }
  ]
  [
    { path: '/status', order: 'ascending' }
    { path: '/lastActionDateTime', order: 'ascending' }
  ]
]

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
    publicNetworkAccess: 'Enabled'
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
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          { path: '/tenantId/?' } // every query is scoped to the caller's tenant
          { path: '/status/?' } // $filter on status; the sweep of stuck notStarted/inProgress operations
          { path: '/operationType/?' } // $filter on operationType
          { path: '/createdDateTime/?' } // $orderby and range filters (fixed-width UTC text sorts as time)
          { path: '/lastActionDateTime/?' } // $orderby, range filters, the stuck-operation deadline
        ]
        excludedPaths: [
          { path: '/*' }
        ]
        compositeIndexes: compositeIndexes
      }
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

@description('The document endpoint of the account (https://<account>.documents.azure.com:443/).')
output endpoint string = account.properties.documentEndpoint

@description('The name of the database.')
output databaseName string = database.name

@description('The name of the container of operations.')
output containerName string = operationsContainer.name

@description('The name of the lease container.')
output leasesContainerName string = leasesContainer.name
