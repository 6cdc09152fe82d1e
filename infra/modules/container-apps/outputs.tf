output "environment_id" {
  value = azurerm_container_app_environment.this.id
}

output "default_domain" {
  value = azurerm_container_app_environment.this.default_domain
}

output "app_ids" {
  value = { for name, app in azurerm_container_app.this : name => app.id }
}

output "app_names" {
  value = { for name, app in azurerm_container_app.this : name => app.name }
}

output "api_fqdn" {
  value = azurerm_container_app.this["api"].ingress[0].fqdn
}

output "public_base_url" {
  value = local.public_base_url
}

output "migrate_job_name" {
  value = azurerm_container_app_job.migrate.name
}
