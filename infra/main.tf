locals {
  name = "${var.name_prefix}-${var.environment}"
  tags = merge(var.tags, {
    service     = "sms-order-confirmation"
    environment = var.environment
    managed-by  = "terraform"
  })
  # api, worker, bridge run the service (DML); migrate owns the schema (DDL).
  roles = ["api", "worker", "bridge", "migrate"]

  providers_in_use = distinct(compact([var.sms_provider, var.sms_failover_provider]))
  # Issued outside Azure: Terraform makes placeholders, operators set them (README step 4).
  external_secrets = concat(
    var.temporal_auth == "mtls" ? ["temporal-tls-cert", "temporal-tls-key"] : ["temporal-api-key"],
    contains(local.providers_in_use, "twilio") ? ["twilio-account-sid", "twilio-auth-token"] : [],
    contains(local.providers_in_use, "plivo") ? ["plivo-auth-id", "plivo-auth-token"] : [],
  )
}

resource "azurerm_resource_group" "this" {
  name     = "rg-${local.name}"
  location = var.location
  tags     = local.tags
}

module "network" {
  source              = "./modules/network"
  name                = local.name
  location            = var.location
  resource_group_name = azurerm_resource_group.this.name
  address_space       = var.vnet_address_space
  private_dns_zones = [
    "privatelink.database.windows.net",
    "privatelink.vaultcore.azure.net",
    "privatelink.servicebus.windows.net",
  ]
  tags = local.tags
}

module "observability" {
  source                = "./modules/observability"
  name                  = local.name
  location              = var.location
  resource_group_name   = azurerm_resource_group.this.name
  log_retention_days    = var.log_retention_days
  prometheus_rules_file = "${path.root}/../ops/prometheus/alerts.yml"
  metrics_publisher_principal_ids = {
    for role in ["api", "worker", "bridge"] : role => module.platform.identities[role].principal_id
  }
  alert_email_receivers   = var.alert_email_receivers
  servicebus_namespace_id = module.servicebus.namespace_id
  servicebus_topic_name   = module.servicebus.topic_name
  container_app_ids       = module.container_apps.app_ids
  api_ready_url           = "${module.container_apps.public_base_url}/health/ready"
  tags                    = local.tags
}

module "platform" {
  source                        = "./modules/platform"
  name                          = local.name
  location                      = var.location
  resource_group_name           = azurerm_resource_group.this.name
  roles                         = local.roles
  private_endpoints_subnet_id   = module.network.private_endpoints_subnet_id
  key_vault_private_dns_zone_id = module.network.private_dns_zone_ids["privatelink.vaultcore.azure.net"]
  key_vault_allowed_ip_ranges   = var.key_vault_allowed_ip_ranges
  external_secret_names         = local.external_secrets
  derived_secrets = {
    "servicebus-keda-listen" = module.servicebus.keda_listen_connection_string
  }
  secret_expiration_date = var.secret_expiration_date
  tags                   = local.tags
}

module "servicebus" {
  source                      = "./modules/servicebus"
  name                        = local.name
  location                    = var.location
  resource_group_name         = azurerm_resource_group.this.name
  sku                         = var.servicebus_sku
  receiver_principal_id       = module.platform.identities["bridge"].principal_id
  publisher_principal_ids     = var.servicebus_publisher_principal_ids
  private_endpoints_subnet_id = module.network.private_endpoints_subnet_id
  private_dns_zone_id         = module.network.private_dns_zone_ids["privatelink.servicebus.windows.net"]
  tags                        = local.tags
}

module "sql" {
  source                      = "./modules/sql"
  name                        = local.name
  location                    = var.location
  resource_group_name         = azurerm_resource_group.this.name
  sku                         = var.sql_sku
  admin_group                 = var.sql_admin_group
  public_network_access       = var.sql_public_network_access
  private_endpoints_subnet_id = module.network.private_endpoints_subnet_id
  private_dns_zone_id         = module.network.private_dns_zone_ids["privatelink.database.windows.net"]
  log_analytics_workspace_id  = module.observability.log_analytics_workspace_id
  alert_emails                = var.alert_email_receivers
  tags                        = local.tags
}

module "temporal_cloud" {
  source         = "./modules/temporal-cloud"
  namespace_name = var.temporal_namespace_name
  region         = var.temporal_region
  retention_days = var.temporal_retention_days
  auth           = var.temporal_auth
  client_ca_pem  = var.temporal_client_ca_pem
}

module "container_apps" {
  source                       = "./modules/container-apps"
  name                         = local.name
  location                     = var.location
  resource_group_name          = azurerm_resource_group.this.name
  apps_subnet_id               = module.network.apps_subnet_id
  log_analytics_workspace_id   = module.observability.log_analytics_workspace_id
  acr_login_server             = module.platform.acr_login_server
  image_tag                    = var.image_tag
  identities                   = module.platform.identities
  key_vault_secret_ids         = module.platform.secret_ids
  sql_server_fqdn              = module.sql.server_fqdn
  sql_database_name            = module.sql.database_name
  servicebus_namespace_name    = module.servicebus.namespace_name
  servicebus_namespace_host    = module.servicebus.namespace_host
  servicebus_topic_name        = module.servicebus.topic_name
  servicebus_subscription_name = module.servicebus.subscription_name
  temporal_address             = module.temporal_cloud.address
  temporal_namespace           = module.temporal_cloud.namespace_id
  temporal_task_queue          = var.temporal_task_queue
  temporal_auth                = var.temporal_auth
  sms_provider                 = var.sms_provider
  sms_failover_provider        = var.sms_failover_provider
  public_base_url              = var.public_base_url
  scale                        = var.scale
  worker_scale_signal          = var.worker_scale_signal
  prometheus_remote_write_url  = module.observability.prometheus_remote_write_url
  tags                         = local.tags
}
