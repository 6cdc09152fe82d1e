output "identities" {
  description = "Role => { id, client_id, principal_id, name }."
  value = { for role, id in azurerm_user_assigned_identity.role : role => {
    id           = id.id
    client_id    = id.client_id
    principal_id = id.principal_id
    name         = id.name
  } }
}

output "acr_login_server" {
  value = azurerm_container_registry.this.login_server
}

output "acr_id" {
  value = azurerm_container_registry.this.id
}

output "key_vault_id" {
  value = azurerm_key_vault.this.id
}

output "key_vault_uri" {
  value = azurerm_key_vault.this.vault_uri
}

output "secret_ids" {
  description = "Secret name => versionless id (Container Apps then follows rotations)."
  value = merge(
    { for n, s in azurerm_key_vault_secret.generated : n => s.versionless_id },
    { for n, s in azurerm_key_vault_secret.external : n => s.versionless_id },
    { for n, s in azurerm_key_vault_secret.derived : n => s.versionless_id },
  )
}
