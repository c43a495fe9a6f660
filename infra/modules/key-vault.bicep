metadata name = 'Notification signing key'
metadata description = 'The Key Vault that holds the key signing the validation tokens of change notifications with resource data, and the only access to it: Azure RBAC (no access policies), the app\'s identity allowed to use that one key (Key Vault Crypto User on the key, not the vault), purge protection, audit logs to Log Analytics. The private key is made in the vault and never leaves it; rotation adds versions the app publishes ahead of signing with them.'

@description('Required. Name of the vault (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

@description('Required. Azure region of the vault.')
param location string

@description('Optional. Tags applied to the vault.')
param tags tagsType = {}

@description('Required. Name of the signing key in the vault.')
param keyName string

@description('Required. Object (principal) id of the app\'s managed identity, which may sign with the key and read its public parts, and nothing else.')
param principalId string

@description('Required. Resource id of the Log Analytics workspace that receives the vault\'s audit logs.')
param logAnalyticsWorkspaceResourceId string

@description('Optional. Disabled: reachable only through a private endpoint (the private-network mode).')
param publicNetworkAccess publicNetworkAccessType = 'Enabled'

@description('Optional. How long after creation Key Vault rotates the key (ISO 8601 duration); the app publishes a new version ahead of signing with it.')
param rotateAfter string = 'P90D'

@description('Whether the vault accepts traffic from public networks.')
type publicNetworkAccessType = 'Enabled' | 'Disabled'

@description('Tags: string keys and values.')
type tagsType = {
  *: string
}

// Perform cryptographic operations using keys (sign, and read the key's public parts): the
// narrowest built-in role that signs. Assigned on the key, so no other key, secret or
// certificate of the vault is reachable with it.
resource keyVaultCryptoUserRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' existing = {
  scope: subscription()
  name: '12338af0-0e69-4776-bea7-57ae8d297424'
}

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    accessPolicies: []
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: publicNetworkAccess
    networkAcls: publicNetworkAccess == 'Enabled'
      ? { bypass: 'AzureServices', defaultAction: 'Allow' }
      : { bypass: 'None', defaultAction: 'Deny' }
  }
}

resource key 'Microsoft.KeyVault/vaults/keys@2026-05-15' = {
  parent: vault
  name: keyName
  tags: tags
  properties: {
    kty: 'RSA'
    keySize: 2048
    keyOps: [
      'sign'
      'verify'
    ]
    attributes: {
      enabled: true
      exportable: false
    }
    rotationPolicy: {
      attributes: {
        expiryTime: 'P2Y'
      }
      lifetimeActions: [
        {
          trigger: {
            timeAfterCreate: rotateAfter
          }
          action: {
            type: 'rotate'
          }
        }
      ]
    }
  }
}

// The key as an existing resource, so the assignment's scope and name are the key's resource id.
resource signingKey 'Microsoft.KeyVault/vaults/keys@2026-05-15' existing = {
  parent: vault
  name: keyName
}

resource signerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: signingKey
  name: guid(signingKey.id, principalId, keyVaultCryptoUserRole.id)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: keyVaultCryptoUserRole.id
  }
  dependsOn: [
    key
  ]
}

// The vault's audit log (every sign, read and denied request) and metrics, to the workspace. The only
// version of this type that names a workspace is a preview; the GA one (2016-09-01) predates it.
#disable-next-line use-recent-api-versions
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: vault
  name: 'audit-to-log-analytics'
  properties: {
    workspaceId: logAnalyticsWorkspaceResourceId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

@description('The name of the vault.')
output name string = vault.name

@description('The resource id of the vault.')
output resourceId string = vault.id

@description('The key\'s id without a version (NOTIFICATION_SIGNING_KEY_ID): the app signs with its current version.')
output keyId string = key.properties.keyUri
