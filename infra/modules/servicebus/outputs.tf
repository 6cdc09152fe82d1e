output "namespace_id" {
  value = azurerm_servicebus_namespace.this.id
}

output "namespace_name" {
  value = azurerm_servicebus_namespace.this.name
}

output "namespace_host" {
  description = "SERVICEBUS_NAMESPACE: what the bridge's DefaultAzureCredential connects to."
  value       = "${azurerm_servicebus_namespace.this.name}.servicebus.windows.net"
}

output "topic_name" {
  value = azurerm_servicebus_topic.orders.name
}

output "subscription_name" {
  value = azurerm_servicebus_subscription.bridge.name
}

output "keda_listen_connection_string" {
  description = "Listen-only, this topic only: KEDA's backlog reads."
  value       = azurerm_servicebus_topic_authorization_rule.keda_listen.primary_connection_string
  sensitive   = true
}
