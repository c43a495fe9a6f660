metadata name = 'Monitoring'
metadata description = 'A Log Analytics workspace and a workspace-based Application Insights component. Local (instrumentation key) authentication is off: telemetry is accepted only with a Microsoft Entra ID token.'

@description('Required. Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Required. Azure region of both resources.')
param location string

@description('Optional. Tags applied to both resources.')
param tags tagsType = {}

@description('Optional. Days the workspace keeps data (30 is included in the ingestion price).')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('Optional. Daily ingestion cap of the workspace in GB; -1 for no cap. A cap drops telemetry once reached, so it is off by default.')
@minValue(-1)
param dailyQuotaGb int = -1

@description('Tags: string keys and values.')
type tagsType = {
  *: string
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    workspaceCapping: {
      dailyQuotaGb: dailyQuotaGb
    }
    features: {
      disableLocalAuth: true
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

@description('The name of the Log Analytics workspace.')
output logAnalyticsName string = workspace.name

@description('The resource id of the Log Analytics workspace.')
output logAnalyticsResourceId string = workspace.id

@description('The name of the Application Insights component.')
output applicationInsightsName string = applicationInsights.name

@description('The resource id of the Application Insights component.')
output applicationInsightsResourceId string = applicationInsights.id
