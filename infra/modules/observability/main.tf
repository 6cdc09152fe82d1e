# Logs: every role writes JSON lines to stdout; the Container Apps environment ships them to this
# workspace (ContainerAppConsoleLogs_CL). Application Insights is workspace-based on the same
# workspace and runs the availability test; the app has no Application Insights SDK.
resource "azurerm_log_analytics_workspace" "this" {
  name                = "log-${var.name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = var.tags
}

resource "azurerm_application_insights" "this" {
  name                = "appi-${var.name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  workspace_id        = azurerm_log_analytics_workspace.this.id
  application_type    = "Node.JS"
  # Only Entra ID may send telemetry (the availability test is Azure's own).
  local_authentication_disabled = true
  tags                          = var.tags
}

# --- Managed Prometheus: the metrics each role serves, scraped by a Prometheus agent sidecar in
# every replica (container-apps module) and remote-written here with the role's managed identity.
resource "azurerm_monitor_workspace" "this" {
  name                          = "amw-${var.name}"
  location                      = var.location
  resource_group_name           = var.resource_group_name
  public_network_access_enabled = true
  tags                          = var.tags
}

resource "azurerm_monitor_data_collection_endpoint" "prometheus" {
  name                = "dce-${var.name}-prom"
  location            = var.location
  resource_group_name = var.resource_group_name
  kind                = "Linux"
  tags                = var.tags
}

resource "azurerm_monitor_data_collection_rule" "prometheus" {
  name                        = "dcr-${var.name}-prom"
  location                    = var.location
  resource_group_name         = var.resource_group_name
  data_collection_endpoint_id = azurerm_monitor_data_collection_endpoint.prometheus.id
  kind                        = "Linux"
  tags                        = var.tags

  destinations {
    monitor_account {
      monitor_account_id = azurerm_monitor_workspace.this.id
      name               = "amw"
    }
  }

  data_flow {
    streams      = ["Microsoft-PrometheusMetrics"]
    destinations = ["amw"]
  }

  data_sources {
    prometheus_forwarder {
      name    = "sidecars"
      streams = ["Microsoft-PrometheusMetrics"]
    }
  }
}

resource "azurerm_role_assignment" "metrics_publisher" {
  for_each             = var.metrics_publisher_principal_ids
  scope                = azurerm_monitor_data_collection_rule.prometheus.id
  role_definition_name = "Monitoring Metrics Publisher"
  principal_id         = each.value
}

# --- Who is told --------------------------------------------------------------------------------
resource "azurerm_monitor_action_group" "oncall" {
  name                = "ag-${var.name}-oncall"
  resource_group_name = var.resource_group_name
  short_name          = "sms-oncall"
  tags                = var.tags

  dynamic "email_receiver" {
    for_each = var.alert_email_receivers
    content {
      name                    = "email-${email_receiver.key}"
      email_address           = email_receiver.value
      use_common_alert_schema = true
    }
  }
}

# --- ops/prometheus/alerts.yml, as managed Prometheus rules ----------------------------------------
# Read from the file itself, so the rules promtool tests (test/unit/promtool.test.ts) are the rules
# that page: there is no second copy to drift.
locals {
  alert_rules = yamldecode(file(var.prometheus_rules_file))
  # Azure severities: 0 critical, 1 error, 2 warning, 3 informational.
  severity = { critical = 0, error = 1, warning = 2, info = 3 }
}

# --- Azure Monitor rules on platform metrics -------------------------------------------------------
# The subscription's dead-letter queue: messages that will never become an order (SmsDeadLetter
# counts what the bridge dead-letters; this also sees expiry and MaxDeliveryCount).
resource "azurerm_monitor_metric_alert" "dead_letters" {
  name                = "alert-${var.name}-servicebus-dead-letters"
  resource_group_name = var.resource_group_name
  scopes              = [var.servicebus_namespace_id]
  description         = "Messages in the ${var.servicebus_topic_name} topic's dead-letter queue (docs/runbook.md#smsdeadletter)."
  severity            = 2
  frequency           = "PT5M"
  window_size         = "PT15M"
  tags                = var.tags

  criteria {
    metric_namespace = "Microsoft.ServiceBus/namespaces"
    metric_name      = "DeadletteredMessages"
    aggregation      = "Maximum"
    operator         = "GreaterThan"
    threshold        = 0

    dimension {
      name     = "EntityName"
      operator = "Include"
      values   = [var.servicebus_topic_name]
    }
  }

  action {
    action_group_id = azurerm_monitor_action_group.oncall.id
  }
}

# A role with no replica serves no metrics, so the Prometheus rules go quiet: this one does not.
resource "azurerm_monitor_metric_alert" "no_replicas" {
  for_each            = var.container_app_ids
  name                = "alert-${var.name}-${each.key}-no-replicas"
  resource_group_name = var.resource_group_name
  scopes              = [each.value]
  description         = "${each.key} has had no running replica for 5 minutes (docs/runbook.md#smstargetabsent)."
  severity            = 0
  frequency           = "PT1M"
  window_size         = "PT5M"
  tags                = var.tags

  criteria {
    metric_namespace = "Microsoft.App/containerApps"
    metric_name      = "Replicas"
    aggregation      = "Maximum"
    operator         = "LessThan"
    threshold        = 1
  }

  action {
    action_group_id = azurerm_monitor_action_group.oncall.id
  }
}

resource "azurerm_monitor_metric_alert" "restarts" {
  for_each            = var.container_app_ids
  name                = "alert-${var.name}-${each.key}-restarts"
  resource_group_name = var.resource_group_name
  scopes              = [each.value]
  description         = "${each.key} containers restarted: a crash loop (a bad secret, the database or Temporal refusing) hides here first (docs/runbook.md#smstargetdown)."
  severity            = 1
  frequency           = "PT5M"
  window_size         = "PT15M"
  tags                = var.tags

  criteria {
    metric_namespace = "Microsoft.App/containerApps"
    metric_name      = "RestartCount"
    aggregation      = "Maximum"
    operator         = "GreaterThan"
    threshold        = 2
  }

  action {
    action_group_id = azurerm_monitor_action_group.oncall.id
  }
}

# The api's readiness from outside, every 5 minutes from three regions.
resource "azurerm_application_insights_standard_web_test" "ready" {
  count                   = var.api_ready_url == "" ? 0 : 1
  name                    = "webtest-${var.name}-api-ready"
  location                = var.location
  resource_group_name     = var.resource_group_name
  application_insights_id = azurerm_application_insights.this.id
  geo_locations           = ["emea-nl-ams-azr", "emea-gb-db3-azr", "us-va-ash-azr"]
  frequency               = 300
  enabled                 = true
  tags                    = var.tags

  request {
    url = var.api_ready_url
  }

  validation_rules {
    expected_status_code        = 200
    ssl_check_enabled           = true
    ssl_cert_remaining_lifetime = 14
  }
}

resource "azurerm_monitor_metric_alert" "availability" {
  count               = var.api_ready_url == "" ? 0 : 1
  name                = "alert-${var.name}-api-availability"
  resource_group_name = var.resource_group_name
  scopes              = [azurerm_application_insights.this.id, azurerm_application_insights_standard_web_test.ready[0].id]
  description         = "GET /health/ready fails from two or more locations."
  severity            = 1
  tags                = var.tags

  application_insights_web_test_location_availability_criteria {
    web_test_id           = azurerm_application_insights_standard_web_test.ready[0].id
    component_id          = azurerm_application_insights.this.id
    failed_location_count = 2
  }

  action {
    action_group_id = azurerm_monitor_action_group.oncall.id
  }
}
