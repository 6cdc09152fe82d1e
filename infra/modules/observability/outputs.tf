output "log_analytics_workspace_id" {
  value = azurerm_log_analytics_workspace.this.id
}

output "application_insights_id" {
  value = azurerm_application_insights.this.id
}

output "prometheus_remote_write_url" {
  description = "Where the sidecars remote-write (the DCR's ingestion path on its endpoint)."
  value       = "${azurerm_monitor_data_collection_endpoint.prometheus.metrics_ingestion_endpoint}/dataCollectionRules/${azurerm_monitor_data_collection_rule.prometheus.immutable_id}/streams/Microsoft-PrometheusMetrics/api/v1/write?api-version=2023-04-24"
}

output "monitor_workspace_query_endpoint" {
  value = azurerm_monitor_workspace.this.query_endpoint
}

output "action_group_id" {
  value = azurerm_monitor_action_group.oncall.id
}
