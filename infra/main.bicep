// One-command deploy (`azd up`) of the job-monitoring app: a Flex Consumption Python 3.11 function app on the
// Durable Task Scheduler, with identity-based access everywhere (no keys or connection secrets in settings).
//
//   resource group
//   ├── user-assigned managed identity (the app runs as it)
//   ├── storage account (AzureWebJobsStorage over managed identity + the deployment package container)
//   ├── Log Analytics workspace + Application Insights (local auth off: ingestion with Entra ID only)
//   ├── Durable Task Scheduler (Consumption SKU) + task hub
//   ├── Flex Consumption plan (FC1) + function app (Python 3.11, every app setting host.json and the app read)
//   └── role assignments for the identity: storage blob/queue/table data roles, Durable Task Data Contributor,
//       Monitoring Metrics Publisher (and Durable Task Data Contributor for the deploying user: the dashboard)
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names and tags every resource.')
param environmentName string

@minLength(1)
@description('Azure region for every resource (one where Flex Consumption and the Durable Task Scheduler are offered).')
param location string

@description('Object id of the deploying user (azd sets it), granted dashboard access to the task hub. Empty: none.')
param principalId string = ''

@secure()
@description('Optional Teams/Slack/any incoming-webhook URL the monitor POSTs new alerts to. Empty: alerts are only logged.')
param alertWebhookUrl string = ''

@description('Task hub name (TASKHUB_NAME, host.json hubName).')
param taskHubName string = 'default'

@description('Maximum instances the Flex Consumption app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory per instance (MB) on Flex Consumption.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'core/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'core/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: 'app-package-${resourceToken}'
  }
}

module monitoring 'core/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module scheduler 'core/scheduler.bicep' = {
  name: 'scheduler'
  scope: rg
  params: {
    name: 'dts-${resourceToken}'
    taskHubName: taskHubName
    location: location
    tags: tags
  }
}

module function 'app/function.bicep' = {
  name: 'function'
  scope: rg
  params: {
    planName: 'plan-${resourceToken}'
    appName: 'func-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    schedulerEndpoint: scheduler.outputs.endpoint
    taskHubName: scheduler.outputs.taskHubName
    alertWebhookUrl: alertWebhookUrl
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
}

module roles 'core/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    storageAccountName: storage.outputs.name
    schedulerName: scheduler.outputs.name
    taskHubName: scheduler.outputs.taskHubName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

// azd stores these in the environment (.azure/<env>/.env); none of them is a secret.
output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = function.outputs.name
output SERVICE_API_URI string = function.outputs.uri
output DURABLE_TASK_SCHEDULER_ENDPOINT string = scheduler.outputs.endpoint
output TASKHUB_NAME string = scheduler.outputs.taskHubName
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
