output "resource_group_name" {
  value = azurerm_resource_group.this.name
}

output "acr_login_server" {
  description = "Where build.yml pushes sms-order-confirmation:<git sha>."
  value       = module.platform.acr_login_server
}

output "key_vault_uri" {
  value = module.platform.key_vault_uri
}

output "key_vault_name" {
  value = element(split("/", module.platform.key_vault_id), length(split("/", module.platform.key_vault_id)) - 1)
}

output "container_apps_default_domain" {
  value = module.container_apps.default_domain
}

output "api_url" {
  description = "PUBLIC_BASE_URL: what the providers' webhooks call."
  value       = module.container_apps.public_base_url
}

output "container_app_names" {
  value = module.container_apps.app_names
}

output "migrate_job_name" {
  value = module.container_apps.migrate_job_name
}

output "sql_server_fqdn" {
  value = module.sql.server_fqdn
}

output "sql_server_name" {
  value = module.sql.server_name
}

output "sql_database_name" {
  value = module.sql.database_name
}

output "sql_identity_names" {
  description = "The Entra names the README's CREATE USER statements use."
  value       = { for role, id in module.platform.identities : role => id.name }
}

output "servicebus_namespace" {
  value = module.servicebus.namespace_host
}

output "temporal_namespace" {
  value = module.temporal_cloud.namespace_id
}

output "temporal_address" {
  value = module.temporal_cloud.address
}
