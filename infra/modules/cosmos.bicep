metadata name = 'Cosmos DB for NoSQL'
metadata description = 'The account, the database and the containers of the Team Operations API. Key (local) authentication is off: the app and people reach the data plane only through Cosmos DB RBAC with Microsoft Entra ID.'

@description('Required. Name of the Cosmos DB account (3-44 lowercase letters, digits and hyphens).')
@minLength(3)
@maxLength(44)
param name string

@description('Required. Azure region of the account (its write region).')
param location string

@description('Optional. A second region the account is replicated to, with service-managed failover (the write region moves there when this one is down). Empty: one region. Needs provisioned throughput: a serverless account has one region only.')
param secondaryLocation string = ''

@description('Optional. Spread the replicas of each region across availability zones (RU charges x1.25, waived for autoscale throughput). Chosen when a region is added to the account: an existing region cannot be switched.')
param zoneRedundant bool = false

@description('Optional. Days of continuous backup: any second of them can be restored (to a new account).')
param backupRetentionDays backupRetentionType = 30

@description('Optional. A management lock on the account: CanNotDelete (the default) refuses to delete it, or its resource group, until the lock is removed.')
param lock lockType = {
  kind: 'CanNotDelete'
}

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

@description('The continuous backup tiers: 7 days (free) or 30 days (billed per GB stored).')
type backupRetentionType = 7 | 30

@description('A management lock, as Azure Verified Modules declare it.')
type lockType = {
  @description('Optional. Name of the lock; default lock-<account name>.')
  name: string?

  @description('Optional. Kind of lock; None for no lock.')
  kind: ('CanNotDelete' | 'ReadOnly' | 'None')?
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
    locations: concat(
      [
        {
          locationName: location
          failoverPriority: 0
          isZoneRedundant: zoneRedundant
        }
      ],
      empty(secondaryLocation)
        ? []
        : [
            {
              locationName: secondaryLocation
              failoverPriority: 1
              isZoneRedundant: zoneRedundant
            }
          ]
    )
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: capacity.mode == 'Serverless' ? [{ name: 'EnableServerless' }] : []
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: publicNetworkAccess
    // Service-managed failover: with a second region, Cosmos DB moves the write region there in an outage.
    enableAutomaticFailover: !empty(secondaryLocation)
    enableMultipleWriteLocations: false
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous${backupRetentionDays}Days'
      }
    }
  }
}

// Deleting the account deletes its backups too: the lock guards against an accidental delete (of the account or its
// resource group); teardown removes it first (docs/deploy.md).
resource accountLock 'Microsoft.Authorization/locks@2020-05-01' = if ((lock.?kind ?? 'None') != 'None') {
  name: lock.?name ?? 'lock-${name}'
  scope: account
  properties: {
    level: lock.?kind ?? 'CanNotDelete'
    notes: 'Protects the operations and their continuous backup. Remove this lock before deleting the account or its resource group.'
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
