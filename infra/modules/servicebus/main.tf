# The topic the monolith publishes to and the bridge's subscription, with the settings
# docs/servicebus/README.md explains (the emulator's Config.json holds the same, within its caps).
resource "azurerm_servicebus_namespace" "this" {
  #checkov:skip=CKV_AZURE_201: customer-managed keys need Premium and a key in Key Vault; Microsoft-managed encryption at rest applies.
  #checkov:skip=CKV_AZURE_199: double encryption needs Premium with customer-managed keys (above).
  #checkov:skip=CKV_AZURE_203: SAS is needed by one listen-only rule on the topic for KEDA's azure-servicebus scaler; the apps use Entra ID.
  #checkov:skip=CKV_AZURE_204: Standard has no private endpoints; with servicebus_sku = Premium the namespace is private (see public_network_access_enabled).
  name                = "sb-${var.name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  sku                 = var.sku
  capacity            = var.sku == "Premium" ? 1 : 0
  # Premium needs a partition count; Standard takes none.
  premium_messaging_partitions = var.sku == "Premium" ? 1 : 0
  # Premium: reached only through the private endpoint. Standard has no private endpoints, so its
  # data plane stays public, and Entra ID (no SAS except the KEDA listen rule) guards it.
  public_network_access_enabled = var.sku == "Premium" ? false : true
  minimum_tls_version           = "1.2"
  # SAS stays possible only because KEDA's azure-servicebus scaler in Container Apps reads the
  # backlog with a connection string (the listen-only rule below); every app uses Entra ID.
  local_auth_enabled = true
  tags               = var.tags

  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_servicebus_topic" "orders" {
  name         = var.topic_name
  namespace_id = azurerm_servicebus_namespace.this.id
  # Drops the monolith's own resends of a message id before they cost a delivery; the workflow id
  # per OrderId is the guarantee, this is the optimisation (docs/servicebus/README.md).
  requires_duplicate_detection            = true
  duplicate_detection_history_time_window = var.duplicate_detection_window
  default_message_ttl                     = var.message_ttl
  partitioning_enabled                    = false
}

resource "azurerm_servicebus_subscription" "bridge" {
  name     = var.subscription_name
  topic_id = azurerm_servicebus_topic.orders.id
  # The bridge renews the lock of every message it holds for as long as it holds it, so a minute
  # is plenty; a Temporal outage spends no delivery (docs/adr/0005-bridge-outage.md).
  lock_duration                        = var.lock_duration
  max_delivery_count                   = var.max_delivery_count
  dead_lettering_on_message_expiration = true
  default_message_ttl                  = var.message_ttl
}

# KEDA's scaler reads the subscription's backlog; this rule can listen on this topic only.
resource "azurerm_servicebus_topic_authorization_rule" "keda_listen" {
  name     = "keda-listen"
  topic_id = azurerm_servicebus_topic.orders.id
  listen   = true
  send     = false
  manage   = false
}

resource "azurerm_role_assignment" "bridge_receiver" {
  scope                = azurerm_servicebus_subscription.bridge.id
  role_definition_name = "Azure Service Bus Data Receiver"
  principal_id         = var.receiver_principal_id
}

resource "azurerm_role_assignment" "publisher_sender" {
  for_each             = toset(var.publisher_principal_ids)
  scope                = azurerm_servicebus_topic.orders.id
  role_definition_name = "Azure Service Bus Data Sender"
  principal_id         = each.value
}

resource "azurerm_private_endpoint" "servicebus" {
  count               = var.sku == "Premium" ? 1 : 0
  name                = "pe-${var.name}-sb"
  location            = var.location
  resource_group_name = var.resource_group_name
  subnet_id           = var.private_endpoints_subnet_id
  tags                = var.tags

  private_service_connection {
    name                           = "sb"
    private_connection_resource_id = azurerm_servicebus_namespace.this.id
    subresource_names              = ["namespace"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "sb"
    private_dns_zone_ids = [var.private_dns_zone_id]
  }
}
