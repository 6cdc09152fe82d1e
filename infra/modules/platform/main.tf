data "azurerm_client_config" "current" {}

# --- Identities: one per role, so each gets only the access its role needs ------------------------
# api, worker and bridge run the service; migrate owns the schema (DDL) and runs only as the job.
resource "azurerm_user_assigned_identity" "role" {
  for_each            = toset(var.roles)
  name                = "id-${var.name}-${each.value}"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

# --- Container registry ---------------------------------------------------------------------------
resource "azurerm_container_registry" "this" {
  #checkov:skip=CKV_AZURE_139: GitHub-hosted runners push from the internet; pulls use managed identities, never the admin user. Put a self-hosted runner in the VNet to turn public access off.
  #checkov:skip=CKV_AZURE_165: geo-replication is a cost decision for a multi-region deployment; one region here.
  #checkov:skip=CKV_AZURE_166: quarantine needs a scanner that releases images; build.yml scans with Trivy before the push instead.
  #checkov:skip=CKV_AZURE_233: zone redundancy is not offered in every region; enable per region when available.
  #checkov:skip=CKV_AZURE_237: dedicated data endpoints matter only with firewall rules, which public access above rules out.
  #checkov:skip=CKV_AZURE_164: Docker Content Trust signing is not part of the build yet (docs list it as a follow-up).
  name                          = replace("cr${var.name}", "-", "")
  location                      = var.location
  resource_group_name           = var.resource_group_name
  sku                           = "Premium"
  admin_enabled                 = false
  public_network_access_enabled = true
  anonymous_pull_enabled        = false
  retention_policy_in_days      = 30
  tags                          = var.tags
}

resource "azurerm_role_assignment" "acr_pull" {
  for_each             = azurerm_user_assigned_identity.role
  scope                = azurerm_container_registry.this.id
  role_definition_name = "AcrPull"
  principal_id         = each.value.principal_id
}

# --- Key Vault --------------------------------------------------------------------------------------
resource "azurerm_key_vault" "this" {
  #checkov:skip=CKV_AZURE_189: public access stays on so the deploying identity (GitHub runner, operator) can write secrets, but the firewall denies everything except allowed_ip_ranges; the apps use the private endpoint.
  name                          = substr("kv-${var.name}-${random_string.vault_suffix.result}", 0, 24)
  location                      = var.location
  resource_group_name           = var.resource_group_name
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "premium"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = true
  tags                          = var.tags

  network_acls {
    default_action = "Deny"
    bypass         = "AzureServices"
    ip_rules       = var.key_vault_allowed_ip_ranges
  }
}

# Vault names are global: a suffix keeps a re-created environment from colliding with its
# soft-deleted predecessor.
resource "random_string" "vault_suffix" {
  length  = 4
  upper   = false
  special = false
}

resource "azurerm_private_endpoint" "key_vault" {
  name                = "pe-${var.name}-kv"
  location            = var.location
  resource_group_name = var.resource_group_name
  subnet_id           = var.private_endpoints_subnet_id
  tags                = var.tags

  private_service_connection {
    name                           = "kv"
    private_connection_resource_id = azurerm_key_vault.this.id
    subresource_names              = ["vault"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "kv"
    private_dns_zone_ids = [var.key_vault_private_dns_zone_id]
  }
}

# The deploying identity writes the secrets Terraform generates and the placeholders below.
resource "azurerm_role_assignment" "deployer_secrets_officer" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_role_assignment" "secrets_user" {
  for_each             = azurerm_user_assigned_identity.role
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = each.value.principal_id
}

# --- Secrets Terraform can make: generated once, then owned by the operators ----------------------
# ignore_changes on the value: a rotation (a new codec key put first, docs/adr/0010) is done in the
# vault and must not be undone by the next apply.
resource "random_password" "api_token" {
  length  = 48
  special = false
}

resource "random_password" "workflow_id_hash_key" {
  length  = 64
  special = false
}

resource "random_bytes" "payload_codec_key" {
  length = 32
}

locals {
  generated_secrets = {
    "api-token"            = random_password.api_token.result
    "workflow-id-hash-key" = random_password.workflow_id_hash_key.result
    # <keyId>:<base64 of 32 bytes>, as config/codec-keys.ts parses it.
    "payload-codec-keys" = "k1:${random_bytes.payload_codec_key.base64}"
  }
  # Issued outside Azure (the provider's console, Temporal Cloud, your CA): created empty of meaning
  # here and set with `az keyvault secret set` (infra/README.md, step 4). The app refuses the
  # placeholder at start (not a PEM, not an AC… sid), so a forgotten one fails loudly.
  placeholder = "set-me-with-az-keyvault-secret-set"
}

resource "azurerm_key_vault_secret" "generated" {
  for_each        = local.generated_secrets
  name            = each.key
  value           = each.value
  key_vault_id    = azurerm_key_vault.this.id
  content_type    = "text/plain"
  expiration_date = var.secret_expiration_date
  depends_on      = [azurerm_role_assignment.deployer_secrets_officer]

  lifecycle {
    ignore_changes = [value]
  }
}

resource "azurerm_key_vault_secret" "external" {
  for_each        = toset(var.external_secret_names)
  name            = each.value
  value           = local.placeholder
  key_vault_id    = azurerm_key_vault.this.id
  content_type    = "text/plain"
  expiration_date = var.secret_expiration_date
  depends_on      = [azurerm_role_assignment.deployer_secrets_officer]

  lifecycle {
    ignore_changes = [value]
  }
}

resource "azurerm_key_vault_secret" "derived" {
  for_each        = nonsensitive(toset(keys(var.derived_secrets)))
  name            = each.value
  value           = var.derived_secrets[each.value]
  key_vault_id    = azurerm_key_vault.this.id
  content_type    = "text/plain"
  expiration_date = var.secret_expiration_date
  depends_on      = [azurerm_role_assignment.deployer_secrets_officer]
}
