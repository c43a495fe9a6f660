metadata name = 'Alerts'
metadata description = 'Who is told and when: an action group (email and webhook receivers, both optional), metric alerts on the API\'s server errors and latency and on Cosmos DB\'s throttling, server errors and latency, log alerts on the queries of docs/operations.md (poison messages, queue backlog, the store unavailable, notification delivery failures, change-feed lag, stalls and losses), and a standard availability test of GET /v1.0/health with its alert.'

@description('Required. Prefix of every alert\'s name (alert-<prefix>-<alert>), and the action group\'s and availability test\'s names.')
param namePrefix string

@description('Required. Azure region of the log alerts and the availability test (that of the Application Insights component).')
param location string

@description('Optional. Tags applied to every resource.')
param tags tagsType = {}

@description('Required. Resource id of the Application Insights component the log alerts query and the availability test reports to.')
param applicationInsightsResourceId string

@description('Required. Resource id of the Cosmos DB account whose metrics are watched.')
param cosmosAccountResourceId string

@description('Required. Host name of the function app (the availability test calls https://<host>/v1.0/health).')
param functionAppHostName string

@description('Optional. Email addresses the action group notifies. None: alerts fire and show in the portal, and nobody is told.')
param emailAddresses string[] = []

@description('Optional. A URL the action group POSTs each alert to (the common alert schema): a chat channel\'s incoming webhook, an incident tool. Empty: none.')
@secure()
param webhookUrl string = ''

@description('Optional. Where the availability test runs from (Application Insights test location ids), and how often, in seconds. Each run from each location is billed (docs/operations.md, the cost model).')
param availabilityTest availabilityTestType = {
  locations: [
    'us-il-ch1-azr'
    'emea-nl-ams-azr'
    'apac-sg-sin-azr'
  ]
  frequencySeconds: 900
}

@description('Tags: string keys and values.')
type tagsType = {
  *: string
}

@description('Where and how often the availability test runs.')
type availabilityTestType = {
  @description('Required. Test location ids; the alert fires when two of them fail.')
  @minLength(2)
  locations: string[]

  @description('Required. Seconds between runs from each location.')
  frequencySeconds: 300 | 600 | 900
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'teamops'
    enabled: true
    emailReceivers: [
      for (address, i) in emailAddresses: {
        name: 'email-${i}'
        emailAddress: address
        useCommonAlertSchema: true
      }
    ]
    webhookReceivers: empty(webhookUrl)
      ? []
      : [
          {
            name: 'webhook'
            serviceUri: webhookUrl
            useCommonAlertSchema: true
          }
        ]
  }
}

// ---------------------------------------------------------------- metric alerts

@description('A static-threshold metric alert.')
type metricAlertType = {
  @description('Required. Short name of the alert.')
  name: string

  @description('Required. What it means and what to do (docs/operations.md has the runbooks).')
  description: string

  @description('Required. 0 (critical) to 4 (verbose).')
  severity: 0 | 1 | 2 | 3 | 4

  @description('Required. The resource whose metric is watched.')
  scope: string

  @description('Required. The metric namespace.')
  metricNamespace: string

  @description('Required. The metric.')
  metricName: string

  @description('Required. How the metric is aggregated over the window.')
  timeAggregation: 'Average' | 'Count' | 'Maximum' | 'Minimum' | 'Total'

  @description('Required. The value above which the alert fires.')
  threshold: int

  @description('Required. The window the aggregation covers (ISO 8601).')
  windowSize: string

  @description('Optional. Dimension values the metric is filtered to.')
  dimensions: {
    @description('Required. The dimension.')
    name: string

    @description('Required. The values included.')
    values: string[]
  }[]?
}

var metricAlerts metricAlertType[] = [
  {
    name: 'api-server-errors'
    description: 'The API answered more than 5 requests with a 5xx in 5 minutes: a 500 is a bug (see exceptions), a 503 the store or the key service down (runbooks in docs/operations.md).'
    severity: 1
    scope: applicationInsightsResourceId
    metricNamespace: 'microsoft.insights/components'
    metricName: 'requests/count'
    timeAggregation: 'Count'
    threshold: 5
    windowSize: 'PT5M'
    dimensions: [{ name: 'request/resultCode', values: ['500', '502', '503', '504'] }]
  }
  {
    name: 'api-latency'
    description: 'The API\'s average response time was above 2 seconds for 15 minutes.'
    severity: 2
    scope: applicationInsightsResourceId
    metricNamespace: 'microsoft.insights/components'
    metricName: 'requests/duration'
    timeAggregation: 'Average'
    threshold: 2000
    windowSize: 'PT15M'
  }
  {
    name: 'cosmos-throttled'
    description: 'Cosmos DB answered more than 10 requests with 429 (throttled) in 5 minutes: the account needs more throughput, or a hot partition (docs/operations.md).'
    severity: 2
    scope: cosmosAccountResourceId
    metricNamespace: 'Microsoft.DocumentDB/databaseAccounts'
    metricName: 'TotalRequests'
    timeAggregation: 'Count'
    threshold: 10
    windowSize: 'PT5M'
    dimensions: [{ name: 'StatusCode', values: ['429'] }]
  }
  {
    name: 'cosmos-server-errors'
    description: 'Cosmos DB answered more than 5 requests with a server error (500, 503) in 5 minutes: check Azure Service Health and the region runbook (docs/operations.md).'
    severity: 1
    scope: cosmosAccountResourceId
    metricNamespace: 'Microsoft.DocumentDB/databaseAccounts'
    metricName: 'TotalRequests'
    timeAggregation: 'Count'
    threshold: 5
    windowSize: 'PT5M'
    dimensions: [{ name: 'StatusCode', values: ['500', '503'] }]
  }
  {
    name: 'cosmos-latency'
    description: 'Cosmos DB\'s server-side latency (gateway mode, which the app uses) averaged above 100 ms for 15 minutes.'
    severity: 2
    scope: cosmosAccountResourceId
    metricNamespace: 'Microsoft.DocumentDB/databaseAccounts'
    metricName: 'ServerSideLatencyGateway'
    timeAggregation: 'Average'
    threshold: 100
    windowSize: 'PT15M'
  }
]

resource metricAlert 'Microsoft.Insights/metricAlerts@2026-01-01' = [
  for alert in metricAlerts: {
    name: 'alert-${namePrefix}-${alert.name}'
    location: 'global'
    tags: tags
    properties: {
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [alert.scope]
      evaluationFrequency: 'PT1M'
      windowSize: alert.windowSize
      autoMitigate: true
      criteria: {
        'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
        allOf: [
          {
            criterionType: 'StaticThresholdCriterion'
            name: alert.name
            metricNamespace: alert.metricNamespace
            metricName: alert.metricName
            timeAggregation: alert.timeAggregation
            operator: 'GreaterThan'
            threshold: alert.threshold
            dimensions: [
              for dimension in (alert.?dimensions ?? []): {
                name: dimension.name
                operator: 'Include'
                values: dimension.values
              }
            ]
          }
        ]
      }
      actions: [
        {
          actionGroupId: actionGroup.id
        }
      ]
    }
  }
]

// ---------------------------------------------------------------- log alerts (the queries of docs/operations.md)

@description('A log alert on the Application Insights component: fires when the query returns more rows than the threshold.')
type logAlertType = {
  @description('Required. Short name of the alert.')
  name: string

  @description('Required. What it means and what to do.')
  description: string

  @description('Required. 0 (critical) to 4 (verbose).')
  severity: 0 | 1 | 2 | 3 | 4

  @description('Required. The KQL query (infra/queries/*.kql, the same text as docs/operations.md).')
  query: string

  @description('Required. The alert fires when the query returns more rows than this.')
  threshold: int

  @description('Required. How often it runs and the time range it covers (ISO 8601).')
  evaluationFrequency: string

  @description('Required. The time range each run covers (ISO 8601).')
  windowSize: string
}

var logAlerts logAlertType[] = [
  {
    name: 'poison-messages'
    description: 'A poison queue holds messages: inbox messages that can never succeed, or completion events and notification batches that still failed after their retries. Fix the cause, then replay them (docs/operations.md, poison replay).'
    severity: 1
    query: loadTextContent('../queries/poison-messages.kql')
    threshold: 0
    evaluationFrequency: 'PT5M'
    windowSize: 'PT10M'
  }
  {
    name: 'queue-backlog'
    description: 'A queue has held more than 1000 messages for 30 minutes: the inbox or the delivery queue is not keeping up (the store throttled or down, maximumInstanceCount reached).'
    severity: 2
    query: loadTextContent('../queries/queue-backlog.kql')
    threshold: 0
    evaluationFrequency: 'PT15M'
    windowSize: 'PT30M'
  }
  {
    name: 'store-unavailable'
    description: 'More than 10 requests were answered 429 or 503 in 5 minutes: the store is throttling or down (docs/operations.md, store outage).'
    severity: 1
    query: loadTextContent('../queries/store-unavailable.kql')
    threshold: 10
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
  }
  {
    name: 'notification-failures'
    description: 'More than 20 change-notification deliveries were not acknowledged in 15 minutes: a receiver is down or refusing (each is retried on the schedule, then dropped with a missed lifecycle notification).'
    severity: 3
    query: loadTextContent('../queries/notification-failures.kql')
    threshold: 20
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
  }
  {
    name: 'change-feed-lag'
    description: 'A change-feed function handled changes more than 5 minutes old: completion events or notifications are late (a batch failing and retried, or the functions not keeping up).'
    severity: 2
    query: loadTextContent('../queries/change-feed-lag.kql')
    threshold: 0
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
  }
  {
    name: 'change-feed-stalled'
    description: 'Operations are being written but a change-feed function has reported no batch for 30 minutes: it is not running (its lease, its connection, its identity\'s role).'
    severity: 1
    query: loadTextContent('../queries/change-feed-stalled.kql')
    threshold: 0
    evaluationFrequency: 'PT15M'
    windowSize: 'PT30M'
  }
  {
    name: 'change-feed-lost'
    description: 'A change-feed batch failed its last retry and could not be dead-lettered: its completion events or notifications are lost. The exception names the documents; replay by touching them or tell the consumers (docs/operations.md).'
    severity: 0
    query: loadTextContent('../queries/change-feed-lost.kql')
    threshold: 0
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
  }
]

resource logAlert 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = [
  for alert in logAlerts: {
    name: 'alert-${namePrefix}-${alert.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: alert.name
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [applicationInsightsResourceId]
      evaluationFrequency: alert.evaluationFrequency
      windowSize: alert.windowSize
      autoMitigate: true
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: alert.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]

// ---------------------------------------------------------------- availability

resource healthTest 'Microsoft.Insights/webtests@2022-06-15' = {
  name: 'webtest-${namePrefix}-health'
  location: location
  // The link that makes the portal show the test under the component.
  tags: union(tags, { 'hidden-link:${applicationInsightsResourceId}': 'Resource' })
  kind: 'standard'
  properties: {
    SyntheticMonitorId: 'webtest-${namePrefix}-health'
    Name: 'GET /v1.0/health'
    Description: 'The API and its store answer: 200 from the health endpoint (no token needed), over a valid certificate.'
    Kind: 'standard'
    Enabled: true
    Frequency: availabilityTest.frequencySeconds
    Timeout: 30
    RetryEnabled: true
    Locations: [for id in availabilityTest.locations: { Id: id }]
    Request: {
      RequestUrl: 'https://${functionAppHostName}/v1.0/health'
      HttpVerb: 'GET'
      ParseDependentRequests: false
    }
    ValidationRules: {
      ExpectedHttpStatusCode: 200
      IgnoreHttpStatusCode: false
      SSLCheck: true
      SSLCertRemainingLifetimeCheck: 7
    }
  }
}

resource availabilityAlert 'Microsoft.Insights/metricAlerts@2026-01-01' = {
  name: 'alert-${namePrefix}-availability'
  location: 'global'
  tags: union(tags, { 'hidden-link:${applicationInsightsResourceId}': 'Resource' })
  properties: {
    description: 'GET /v1.0/health failed from two test locations: the API or its store is down for callers (docs/operations.md).'
    severity: 0
    enabled: true
    scopes: [
      healthTest.id
      applicationInsightsResourceId
    ]
    evaluationFrequency: 'PT5M'
    // A window that holds a run from every location (they run every frequencySeconds).
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria'
      webTestId: healthTest.id
      componentId: applicationInsightsResourceId
      failedLocationCount: 2
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

@description('The resource id of the action group every alert notifies.')
output actionGroupResourceId string = actionGroup.id

@description('The names of the metric alerts.')
output metricAlertNames string[] = [for (alert, i) in metricAlerts: metricAlert[i].name]

@description('The names of the log alerts.')
output logAlertNames string[] = [for (alert, i) in logAlerts: logAlert[i].name]

@description('The name of the availability alert.')
output availabilityAlertName string = availabilityAlert.name

@description('The resource id of the availability test.')
output availabilityTestResourceId string = healthTest.id
