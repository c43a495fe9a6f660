metadata name = 'Function app on Flex Consumption'
metadata description = 'A Linux Flex Consumption (FC1) plan and a Node.js function app on it that runs as a user-assigned managed identity, optionally integrated with a virtual network. HTTPS only, TLS 1.2 minimum, basic publishing credentials off (Flex Consumption has no FTP at all).'

@description('Required. Name of the function app (its host name is <name>.azurewebsites.net).')
param name string

@description('Required. Name of the Flex Consumption plan.')
param planName string

@description('Required. Azure region of the plan and the app (a region that offers Flex Consumption).')
param location string

@description('Optional. Tags applied to the plan and the app.')
param tags tagsType = {}

@description('Required. The azd service name the app is tagged with (azd-service-name), as in azure.yaml.')
param serviceName string

@description('Required. Resource id of the user-assigned managed identity the app runs as.')
param identityResourceId string

@description('Required. URL of the blob container that holds the deployment package (https://<account>.blob.core.windows.net/<container>).')
param deploymentContainerUrl string

@description('Optional. Node.js major version of the runtime: 22 (LTS, the default) or 24. Node.js 20 reached end of life on 2026-04-30.')
param nodeVersion nodeVersionType = '22'

@description('Optional. Memory of each instance in MB. Flex Consumption bills memory times time; 512 MB holds the app (its resident size is measured in docs/benchmarks.md).')
param instanceMemoryMB instanceMemoryType = 512

@description('Optional. The most instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Optional. Always-ready instances for the HTTP functions (0: scale to zero when idle, which costs nothing; each always-ready instance is billed while idle).')
@minValue(0)
@maxValue(1000)
param alwaysReadyInstances int = 0

@description('Optional. How a deployment or a settings change reaches running instances: RollingUpdate drains them in batches and lets in-flight executions finish (preview in Flex Consumption); Recreate restarts them all at once, ending in-flight executions.')
param siteUpdateStrategy siteUpdateStrategyType = 'RollingUpdate'

@description('Optional. Zone-redundant plan: instances spread across availability zones. The platform then keeps at least two always-ready instances for the HTTP functions and for every other function, billed as always-ready whatever alwaysReadyInstances says.')
param zoneRedundant bool = false

@description('Required. Application settings, name to value. Identity-based connections only: no keys, no connection strings with secrets.')
param appSettings appSettingsType

@description('Optional. Resource id of the subnet (delegated to Microsoft.App/environments) the app\'s outbound traffic goes through. Empty: no virtual network integration.')
param virtualNetworkSubnetId string = ''

@export()
@description('The Node.js versions Flex Consumption runs that are not end of life.')
type nodeVersionType = '22' | '24'

// The worker's Node.js options. On 22, AsyncLocalStorage (the per-invocation telemetry scope) runs on async hooks,
// which slow every promise once in use; this flag moves it to the async context frame, 24's default (24 refuses
// the flag). Measured in docs/benchmarks.md: POST with telemetry at 0.91-0.92 of without, against 0.75-0.85.
var runtimeSettings = nodeVersion == '22' ? { NODE_OPTIONS: '--experimental-async-context-frame' } : {}

@export()
@description('The instance memory sizes Flex Consumption offers, in MB.')
type instanceMemoryType = 512 | 2048 | 4096

@export()
@description('How Flex Consumption applies a site update to running instances.')
type siteUpdateStrategyType = 'RollingUpdate' | 'Recreate'

@description('Tags: string keys and values.')
type tagsType = {
  *: string
}

@description('Application settings: string names and values.')
type appSettingsType = {
  *: string
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    // No ARR affinity cookie: any instance serves any request, so scale-in and rolling updates move no one.
    clientAffinityEnabled: false
    publicNetworkAccess: 'Enabled'
    // Flex Consumption: all outbound traffic goes through the integrated subnet (there is no vnetRouteAllEnabled).
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
      // Documented for Microsoft.Web/sites 2023-12-01 and later ("Site update strategies in Flex Consumption"), but
      // not yet in Bicep's type definitions of any version, which warn of an unknown property.
      #disable-next-line BCP037
      siteUpdateStrategy: {
        type: siteUpdateStrategy
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReadyInstances > 0 ? [{ name: 'http', instanceCount: alwaysReadyInstances }] : []
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      appSettings: [for setting in items(union(appSettings, runtimeSettings)): { name: setting.key, value: setting.value }]
    }
  }
}

// Publishing goes through Microsoft Entra ID (azd, az, func all use a bearer token); the user
// name/password credentials of the SCM (Kudu) site are switched off. Flex Consumption has no FTP
// endpoint, so there is no FTP or FTPS setting to make (ftpsState is one it does not support).
resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('The name of the function app.')
output name string = site.name

@description('The resource id of the function app.')
output resourceId string = site.id

@description('The resource id of the plan.')
output planResourceId string = plan.id

@description('The default host name of the function app.')
output defaultHostName string = site.properties.defaultHostName

@description('The base URL of the function app.')
output uri string = 'https://${site.properties.defaultHostName}'
