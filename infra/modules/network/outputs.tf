output "vnet_id" {
  value = azurerm_virtual_network.this.id
}

output "apps_subnet_id" {
  value = azurerm_subnet.apps.id
}

output "private_endpoints_subnet_id" {
  value = azurerm_subnet.private_endpoints.id
}

output "private_dns_zone_ids" {
  description = "Zone name => id."
  value       = { for name, zone in azurerm_private_dns_zone.this : name => zone.id }
}
