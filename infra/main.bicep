metadata name = 'Team Operations API'
metadata description = 'Everything the Team Operations API runs on: a resource group with a Flex Consumption function app, its host storage and queues, Cosmos DB for NoSQL, Log Analytics and Application Insights, a user-assigned managed identity and its least-privilege role assignments, and optionally a private network (virtual network integration, private endpoints, public access off). No keys: every connection uses Microsoft Entra ID.'

targetScope = 'subscription'

import { instanceMemoryType, nodeVersionType, siteUpdateStrategyType } from 'modules/function-app.bicep'

@minLength(1)
@maxLength(64)
@description('Required. Name of the environment (azd: AZURE_ENV_NAME). Names the resource group and seeds the unique suffix of every resource name.')
param environmentName string

@minLength(1)
@description('Required. Azure region of every resource: one that offers Flex Consumption (az functionapp list-flexconsumption-locations), so that a deployment never stops at the function app after creating Cosmos DB and storage. azd offers only these.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Optional. Name of the resource group; default rg-<environmentName>.')
param resourceGroupName string = ''

@description('Optional. Name of the Cosmos DB account; default cosmos-<token>. Set to the name of an account restored from a point in time (docs/operations.md, restoring the store) to make the deployment adopt it: its settings, lock, roles and the app\'s connection follow.')
param cosmosAccountName string = ''

@description('Optional. Object id of the person (or service principal) deploying (azd: AZURE_PRINCIPAL_ID, which azd always fills). It is given data-plane roles only when grantDeployerDataAccess is true.')
param principalId string = ''

@description('Optional. Kind of principal principalId names.')
param principalType ('User' | 'ServicePrincipal') = 'User'

@description('Optional. For development environments only: give principalId the app\'s data-plane roles (Storage Blob Data Owner and Queue Data Contributor on the host storage, Monitoring Metrics Publisher, Cosmos DB Built-in Data Contributor on the database), to run the app locally against these resources. Off by default: in production nobody but the app\'s identity reads or writes its data, or the package it runs.')
param grantDeployerDataAccess bool = false

@description('Optional. Private-network mode: a virtual network, the function app integrated with it, private endpoints and private DNS zones for blob, queue and Cosmos DB, and public network access off on storage and Cosmos DB. The API itself stays reachable from the internet. Needs the Microsoft.App resource provider registered on the subscription (docs/deploy.md).')
param vnetEnabled bool = false

@description('Optional. Node.js major version of the function app: 22 (LTS) or 24.')
param nodeVersion nodeVersionType = '22'

@minLength(1)
@description('Required. AUTH_AUDIENCES: comma-separated token audiences the API accepts: the client id and/or Application ID URI of its Entra ID app registration (docs/deploy.md).')
param authAudiences string

@description('Optional. AUTH_TENANTS: comma-separated tenant ids whose tokens are accepted, or * for any tenant. Empty: the tenant of this deployment.')
param authTenants string = ''

@description('Optional. PUBLIC_BASE_URL: scheme and host clients use when a proxy or custom domain fronts the app (https://api.contoso.com). Empty: the request\'s own.')
param publicBaseUrl string = ''

@description('Optional. OPERATION_TTL_DAYS: days a finished operation is kept before Cosmos DB expires it.')
@minValue(1)
param operationTtlDays int = 30

@description('Optional. RETRY_AFTER_SECONDS: the Retry-After sent while an operation has not finished.')
@minValue(1)
param retryAfterSeconds int = 5

@description('Optional. Cosmos DB capacity: Serverless (pay per request, nothing while idle) or Autoscale (provisioned throughput shared by the database).')
param cosmosCapacityMode ('Serverless' | 'Autoscale') = 'Serverless'

@description('Optional. Maximum RU/s when cosmosCapacityMode is Autoscale: a multiple of 1000 (anything else stops the deployment); it scales down to 10% of it.')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 1000

@description('Optional. A second Cosmos DB region, replicated with service-managed failover (the write region moves there when the first is down). Empty: one region. Needs cosmosCapacityMode Autoscale (a serverless account has one region); doubles the throughput bill.')
param cosmosSecondaryLocation string = ''

@description('Optional. A CanNotDelete lock on the Cosmos DB account: neither it nor its resource group can be deleted (and its backups with it) until the lock is removed (docs/deploy.md, tearing down).')
param cosmosDeleteLock bool = true

@description('Optional. Zone redundancy: Cosmos DB replicas (RU charges x1.25 unless autoscale), ZRS storage and a zone-redundant Flex Consumption plan (which keeps at least two always-ready instances per function group, billed all the time). Choose before the first deployment: a Cosmos DB region cannot be switched afterwards (docs/deploy.md).')
param zoneRedundant bool = false

@description('Optional. Always-ready instances for the HTTP functions. 0 scales to zero when idle (no cost, a cold start on the first request); each always-ready instance is billed all the time.')
@minValue(0)
param alwaysReadyInstances int = 0

@description('Optional. The most instances the function app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Optional. Memory of each function app instance in MB (billed as memory x time). The app\'s resident size is a few hundred MB at most (docs/benchmarks.md): 512 holds it.')
param instanceMemoryMB instanceMemoryType = 512

@description('Optional. How a deployment reaches running instances: RollingUpdate (preview) drains them in batches and lets in-flight executions finish; Recreate restarts them all at once and ends in-flight executions.')
param siteUpdateStrategy siteUpdateStrategyType = 'RollingUpdate'

@description('Optional. Daily ingestion cap of the Log Analytics workspace in GB; -1 for none. Telemetry past the cap is dropped until the next day.')
@minValue(-1)
param logDailyQuotaGb int = -1

@description('Optional. Comma-separated email addresses the alerts (and the budget) notify. Empty: alerts fire and show in the portal, and nobody is told.')
param alertEmails string = ''

@description('Optional. A URL every alert is POSTed to (the common alert schema): a chat channel\'s incoming webhook, an incident tool. Secret, since such URLs usually carry a token.')
@secure()
param alertWebhookUrl string = ''

@description('Optional. Monthly cost budget of the resource group, in the billing currency, with notifications at 50, 80 and 100 percent (and 100 percent forecast); 0 for none (some subscription offers have no budgets).')
@minValue(0)
param monthlyBudget int = 50

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

// The azd service name of the function app (azure.yaml: services.api).
var serviceName = 'api'

var names = {
  resourceGroup: empty(resourceGroupName) ? '${abbrs.resourcesResourceGroups}${environmentName}' : resourceGroupName
  identity: '${abbrs.managedIdentityUserAssignedIdentities}${serviceName}-${resourceToken}'
  logAnalytics: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
  applicationInsights: '${abbrs.insightsComponents}${resourceToken}'
  storage: '${abbrs.storageStorageAccounts}${resourceToken}'
  cosmos: empty(cosmosAccountName) ? '${abbrs.documentDBDatabaseAccounts}${resourceToken}' : cosmosAccountName
  keyVault: '${abbrs.keyVaultVaults}${resourceToken}'
  plan: '${abbrs.webServerFarms}${resourceToken}'
  functionApp: '${abbrs.webSitesFunctions}${serviceName}-${resourceToken}'
  deploymentContainer: 'app-package'
  virtualNetwork: '${abbrs.networkVirtualNetworks}${resourceToken}'
  natGateway: '${abbrs.networkNatGateways}${resourceToken}'
  publicIp: '${abbrs.networkPublicIPAddresses}${resourceToken}'
  privateEndpointPrefix: '${abbrs.networkPrivateEndpoints}${resourceToken}'
}

// The private-network mode turns public network access off on the data stores; the function
// app reaches them through the virtual network.
var dataPublicNetworkAccess = vnetEnabled ? 'Disabled' : 'Enabled'

// Cosmos DB's privatelink zone per cloud (storage's comes from environment().suffixes).
var cosmosPrivateDnsZones = {
  AzureCloud: 'privatelink.documents.azure.com'
  AzureUSGovernment: 'privatelink.documents.azure.us'
  AzureChinaCloud: 'privatelink.documents.azure.cn'
}

// Key Vault's privatelink zone per cloud.
var keyVaultPrivateDnsZones = {
  AzureCloud: 'privatelink.vaultcore.azure.net'
  AzureUSGovernment: 'privatelink.vaultcore.usgovcloudapi.net'
  AzureChinaCloud: 'privatelink.vaultcore.azure.cn'
}

// What the app's configuration expects (shared/config.ts): database and container names.
var cosmosDatabaseName = 'teamops'
var cosmosContainerName = 'operations'
var cosmosLeasesContainerName = 'leases'
var cosmosSubscriptionsContainerName = 'subscriptions'

// Settings deployed at the app's own default (shared/config.ts), written out so that the
// deployed configuration is complete and visible in the portal; the tests check that each
// equals the app's default. Change them here (a change made in the portal lasts until the
// next deployment).
var appDefaults = {
  jwksCacheSeconds: '3600'
  jwksCooldownSeconds: '30'
  sweeperSchedule: '0 */5 * * * *'
  sweeperDeadlineMinutes: '60'
  sweeperBatchSize: '100'
  subscriptionMaxLifetimeMinutes: '4230'
  subscriptionsPerTenant: '100'
  subscriptionValidationTimeoutSeconds: '10'
  subscriptionDeliveryTimeoutSeconds: '5'
  subscriptionRetryScheduleSeconds: '10,60,300,900,1800,3600'
  subscriptionLifecycleSchedule: '0 */15 * * * *'
  subscriptionReauthorizationNoticeMinutes: '60'
}

// The queues of the event-driven functions, each with its poison queue: where the host (or the app, on a message's
// last attempt) puts a message it cannot process, and where a change-feed batch that failed its last retry is
// written (completion events to operation-events-poison, the changes of notifications to the deliveries').
var queues = {
  inbox: 'operations-inbox'
  inboxPoison: 'operations-inbox-poison'
  events: 'operation-events'
  eventsPoison: 'operation-events-poison'
  deliveries: 'subscription-deliveries'
  deliveriesPoison: 'subscription-deliveries-poison'
}

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
    dailyQuotaGb: logDailyQuotaGb
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: names.storage
    location: location
    tags: tags
    skuName: zoneRedundant ? 'Standard_ZRS' : 'Standard_LRS'
    deploymentContainerName: names.deploymentContainer
    publicNetworkAccess: dataPublicNetworkAccess
    queueNames: [
      queues.inbox
      queues.inboxPoison
      queues.events
      queues.eventsPoison
      queues.deliveries
      queues.deliveriesPoison
    ]
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: names.cosmos
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    containerName: cosmosContainerName
    subscriptionsContainerName: cosmosSubscriptionsContainerName
    leasesContainerName: cosmosLeasesContainerName
    publicNetworkAccess: dataPublicNetworkAccess
    zoneRedundant: zoneRedundant
    secondaryLocation: empty(cosmosSecondaryLocation) || cosmosCapacityMode == 'Autoscale'
      ? cosmosSecondaryLocation
      : fail('cosmosSecondaryLocation needs cosmosCapacityMode Autoscale: a serverless Cosmos DB account has one region only.')
    lock: {
      kind: cosmosDeleteLock ? 'CanNotDelete' : 'None'
    }
    capacity: cosmosCapacityMode == 'Autoscale'
      ? {
          mode: 'Autoscale'
          maxThroughput: cosmosAutoscaleMaxThroughput % 1000 == 0
            ? cosmosAutoscaleMaxThroughput
            : fail('cosmosAutoscaleMaxThroughput must be a multiple of 1000 RU/s.')
        }
      : { mode: 'Serverless' }
  }
}

// The key that signs the validation tokens of notifications with resource data: the app signs
// with it through its identity (Key Vault Crypto User on that key only); nobody reads the private key.
module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: names.keyVault
    location: location
    tags: tags
    keyName: 'notification-signing'
    #disable-next-line what-if-short-circuiting
    principalId: identity.outputs.principalId
    logAnalyticsWorkspaceResourceId: monitoring.outputs.logAnalyticsResourceId
    publicNetworkAccess: dataPublicNetworkAccess
  }
}

// The private-network mode: the virtual network, and a private endpoint with its DNS zone for
// each data-plane endpoint the app uses. Application Insights stays on public ingestion,
// authenticated with Entra ID (local auth off): docs/deploy.md says why.
module network 'modules/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: names.virtualNetwork
    natGatewayName: names.natGateway
    publicIpName: names.publicIp
    location: location
    tags: tags
  }
}

module blobPrivateEndpoint 'modules/private-endpoint.bicep' = if (vnetEnabled) {
  name: 'blob-private-endpoint'
  scope: rg
  params: {
    name: '${names.privateEndpointPrefix}-blob'
    location: location
    tags: tags
    targetResourceId: storage.outputs.resourceId
    groupId: 'blob'
    privateDnsZoneName: 'privatelink.blob.${environment().suffixes.storage}'
    subnetResourceId: network.?outputs.privateEndpointSubnetResourceId ?? ''
    virtualNetworkResourceId: network.?outputs.resourceId ?? ''
  }
}

module queuePrivateEndpoint 'modules/private-endpoint.bicep' = if (vnetEnabled) {
  name: 'queue-private-endpoint'
  scope: rg
  params: {
    name: '${names.privateEndpointPrefix}-queue'
    location: location
    tags: tags
    targetResourceId: storage.outputs.resourceId
    groupId: 'queue'
    privateDnsZoneName: 'privatelink.queue.${environment().suffixes.storage}'
    subnetResourceId: network.?outputs.privateEndpointSubnetResourceId ?? ''
    virtualNetworkResourceId: network.?outputs.resourceId ?? ''
  }
}

module cosmosPrivateEndpoint 'modules/private-endpoint.bicep' = if (vnetEnabled) {
  name: 'cosmos-private-endpoint'
  scope: rg
  params: {
    name: '${names.privateEndpointPrefix}-cosmos'
    location: location
    tags: tags
    targetResourceId: cosmos.outputs.resourceId
    groupId: 'Sql'
    privateDnsZoneName: cosmosPrivateDnsZones[environment().name]
    subnetResourceId: network.?outputs.privateEndpointSubnetResourceId ?? ''
    virtualNetworkResourceId: network.?outputs.resourceId ?? ''
  }
}

module keyVaultPrivateEndpoint 'modules/private-endpoint.bicep' = if (vnetEnabled) {
  name: 'key-vault-private-endpoint'
  scope: rg
  params: {
    name: '${names.privateEndpointPrefix}-vault'
    location: location
    tags: tags
    targetResourceId: keyVault.outputs.resourceId
    groupId: 'vault'
    privateDnsZoneName: keyVaultPrivateDnsZones[environment().name]
    subnetResourceId: network.?outputs.privateEndpointSubnetResourceId ?? ''
    virtualNetworkResourceId: network.?outputs.resourceId ?? ''
  }
}

// The app's identity: the roles it needs and nothing more.
module apiRoleAssignments 'modules/role-assignments.bicep' = {
  name: 'api-role-assignments'
  scope: rg
  params: {
    // Assignment names are guid(scope, principal id, role), as Azure Verified Modules name them, so
    // What-If cannot predict the names of assignments to an identity this deployment creates.
    #disable-next-line what-if-short-circuiting
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    storageAccountName: names.storage
    applicationInsightsName: names.applicationInsights
    cosmosAccountName: names.cosmos
    cosmosDatabaseName: cosmosDatabaseName
  }
  dependsOn: [
    storage
    monitoring
    cosmos
  ]
}

// The deploying principal, for running the app locally against these resources: opt-in, for
// development environments (grantDeployerDataAccess). After the app's assignments: Cosmos DB
// takes one SQL role assignment write at a time.
module developerRoleAssignments 'modules/role-assignments.bicep' = if (grantDeployerDataAccess && !empty(principalId)) {
  name: 'developer-role-assignments'
  scope: rg
  params: {
    principalId: principalId
    principalType: principalType
    storageAccountName: names.storage
    applicationInsightsName: names.applicationInsights
    cosmosAccountName: names.cosmos
    cosmosDatabaseName: cosmosDatabaseName
  }
  dependsOn: [
    apiRoleAssignments
  ]
}

// Read at deployment time and handed straight to the app setting, so the connection string
// never appears in a deployment output. (It identifies the component; with local auth off,
// ingestion also needs an Entra ID token: APPLICATIONINSIGHTS_AUTHENTICATION_STRING.)
resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: names.applicationInsights
  scope: rg
  dependsOn: [
    monitoring
  ]
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    serviceName: serviceName
    identityResourceId: identity.outputs.resourceId
    deploymentContainerUrl: '${storage.outputs.blobEndpoint}${storage.outputs.deploymentContainerName}'
    nodeVersion: nodeVersion
    virtualNetworkSubnetId: network.?outputs.appSubnetResourceId ?? ''
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyInstances: alwaysReadyInstances
    siteUpdateStrategy: siteUpdateStrategy
    zoneRedundant: zoneRedundant
    // Exactly the settings shared/config.ts lists (SETTINGS, less the local-only ones);
    // test/infra/template.test.ts holds the two together. Identity-based only: no keys.
    appSettings: {
      // The host refuses a larger body before it reads it: the API takes 32 KB at most, so nobody can make an
      // instance buffer megabytes without a token (the host reads a body before the app can check the token).
      FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '65536'
      // Functions host storage, through the managed identity.
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identity.outputs.clientId
      AzureWebJobsStorage__blobServiceUri: storage.outputs.blobEndpoint
      AzureWebJobsStorage__queueServiceUri: storage.outputs.queueEndpoint
      // The "COSMOS" connection of the change-feed trigger (leases container: leases).
      COSMOS__accountEndpoint: cosmos.outputs.endpoint
      COSMOS__credential: 'managedidentity'
      COSMOS__clientId: identity.outputs.clientId
      // The app's own Cosmos DB client (ManagedIdentityCredential with AZURE_CLIENT_ID).
      COSMOS_ENDPOINT: cosmos.outputs.endpoint
      COSMOS_DATABASE: cosmos.outputs.databaseName
      COSMOS_CONTAINER: cosmos.outputs.containerName
      AZURE_CLIENT_ID: identity.outputs.clientId
      // Telemetry, authenticated with Entra ID (the component refuses its key).
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
      // Token validation.
      AUTH_AUDIENCES: authAudiences
      AUTH_TENANTS: empty(authTenants) ? tenant().tenantId : authTenants
      AUTH_JWKS_URI: '${environment().authentication.loginEndpoint}common/discovery/v2.0/keys'
      AUTH_JWKS_CACHE_SECONDS: appDefaults.jwksCacheSeconds
      AUTH_JWKS_COOLDOWN_SECONDS: appDefaults.jwksCooldownSeconds
      // Behaviour.
      PUBLIC_BASE_URL: publicBaseUrl
      OPERATION_TTL_DAYS: string(operationTtlDays)
      RETRY_AFTER_SECONDS: string(retryAfterSeconds)
      // Event-driven callers: the inbox (its poison queue is <inbox>-poison), completion events, the sweeper.
      OPERATIONS_INBOX_QUEUE: queues.inbox
      OPERATION_EVENTS_QUEUE: queues.events
      SWEEPER_SCHEDULE: appDefaults.sweeperSchedule
      SWEEPER_DEADLINE_MINUTES: appDefaults.sweeperDeadlineMinutes
      SWEEPER_BATCH_SIZE: appDefaults.sweeperBatchSize
      // Change notifications: subscriptions, and the queue of batches waiting for a retry (its poison queue is
      // <queue>-poison). SUBSCRIPTION_ALLOW_LOOPBACK is local-only and never set here: receivers must be public https.
      COSMOS_SUBSCRIPTIONS_CONTAINER: cosmos.outputs.subscriptionsContainerName
      SUBSCRIPTION_DELIVERY_QUEUE: queues.deliveries
      SUBSCRIPTION_MAX_LIFETIME_MINUTES: appDefaults.subscriptionMaxLifetimeMinutes
      SUBSCRIPTIONS_PER_TENANT: appDefaults.subscriptionsPerTenant
      SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS: appDefaults.subscriptionValidationTimeoutSeconds
      SUBSCRIPTION_DELIVERY_TIMEOUT_SECONDS: appDefaults.subscriptionDeliveryTimeoutSeconds
      SUBSCRIPTION_RETRY_SCHEDULE_SECONDS: appDefaults.subscriptionRetryScheduleSeconds
      SUBSCRIPTION_LIFECYCLE_SCHEDULE: appDefaults.subscriptionLifecycleSchedule
      SUBSCRIPTION_REAUTHORIZATION_NOTICE_MINUTES: appDefaults.subscriptionReauthorizationNoticeMinutes
      // The Key Vault key (no version: the app signs with the current one) of notifications with resource data.
      NOTIFICATION_SIGNING_KEY_ID: keyVault.outputs.keyId
    }
  }
  dependsOn: [
    // The app starts as soon as it exists: let its roles be in place first, the Application
    // Insights component whose connection string it is given, and in the private-network mode
    // the endpoints it reaches its storage and store through. (The component comes before the key vault,
    // whose key id the app is given.)
    apiRoleAssignments
    blobPrivateEndpoint
    queuePrivateEndpoint
    cosmosPrivateEndpoint
    keyVaultPrivateEndpoint
  ]
}

// Who is told and when, what the portal shows, and where the stores' own logs go (docs/operations.md).
var alertEmailAddresses = filter(map(split(alertEmails, ','), address => trim(address)), address => !empty(address))

module alerts 'modules/monitoring-alerts.bicep' = {
  name: 'monitoring-alerts'
  scope: rg
  params: {
    namePrefix: resourceToken
    location: location
    tags: tags
    applicationInsightsResourceId: monitoring.outputs.applicationInsightsResourceId
    cosmosAccountResourceId: cosmos.outputs.resourceId
    functionAppHostName: functionApp.outputs.defaultHostName
    emailAddresses: alertEmailAddresses
    webhookUrl: alertWebhookUrl
  }
}

module diagnostics 'modules/monitoring-diagnostics.bicep' = {
  name: 'monitoring-diagnostics'
  scope: rg
  params: {
    workspaceResourceId: monitoring.outputs.logAnalyticsResourceId
    cosmosAccountName: names.cosmos
    storageAccountName: names.storage
  }
  dependsOn: [
    cosmos
    storage
  ]
}

module workbook 'modules/monitoring-workbook.bicep' = {
  name: 'monitoring-workbook'
  scope: rg
  params: {
    displayName: 'Team Operations API (${environmentName})'
    location: location
    tags: tags
    applicationInsightsResourceId: monitoring.outputs.applicationInsightsResourceId
  }
}

module budget 'modules/monitoring-budget.bicep' = if (monthlyBudget > 0) {
  name: 'monitoring-budget'
  scope: rg
  params: {
    name: 'budget-${environmentName}'
    amount: max(monthlyBudget, 1)
    actionGroupResourceId: alerts.outputs.actionGroupResourceId
    contactEmails: alertEmailAddresses
  }
}

@description('The region of the deployment.')
output AZURE_LOCATION string = location

@description('The tenant of the deployment.')
output AZURE_TENANT_ID string = tenant().tenantId

@description('The resource group everything is in.')
output AZURE_RESOURCE_GROUP string = rg.name

@description('The name of the function app (azd: the api service).')
output SERVICE_API_NAME string = functionApp.outputs.name

@description('The base URL of the function app.')
output SERVICE_API_URI string = functionApp.outputs.uri

@description('The Graph-style API root: the function app URL with the v1.0 route prefix.')
output SERVICE_API_BASE_URL string = '${functionApp.outputs.uri}/v1.0'

@description('The client id of the app\'s managed identity.')
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId

@description('The name of the function host storage account.')
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name

@description('The queue endpoint of the function host storage account.')
output AZURE_STORAGE_QUEUE_ENDPOINT string = storage.outputs.queueEndpoint

@description('The name of the Cosmos DB account.')
output AZURE_COSMOS_ACCOUNT_NAME string = cosmos.outputs.name

@description('The Cosmos DB endpoint (COSMOS_ENDPOINT for running the app locally against Azure).')
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint

@description('The Cosmos DB database.')
output COSMOS_DATABASE string = cosmos.outputs.databaseName

@description('The Cosmos DB container of operations.')
output COSMOS_CONTAINER string = cosmos.outputs.containerName

@description('The Key Vault holding the key that signs notification validation tokens.')
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name

@description('The name of the Application Insights component.')
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName

@description('The virtual network of the private-network mode; empty when vnetEnabled is false.')
output AZURE_VIRTUAL_NETWORK_NAME string = network.?outputs.name ?? ''

@description('The static public IP address the app\'s internet-bound traffic leaves from in the private-network mode; empty otherwise.')
output AZURE_OUTBOUND_IP_ADDRESS string = network.?outputs.outboundIpAddress ?? ''
