provider "azurerm" {
  features {
    key_vault {
      # A destroyed environment must not take its vault's secrets with it: they stay soft-deleted
      # (and purge-protected) so an accidental destroy can be undone.
      purge_soft_delete_on_destroy = false
    }
    resource_group {
      prevent_deletion_if_contains_resources = true
    }
  }
  subscription_id = var.subscription_id
  # Role assignments and Key Vault data-plane calls use the deploying identity's Entra token
  # (GitHub OIDC in CI, `az login` by hand); no client secret is stored anywhere.
  storage_use_azuread = true
}

# Credentials from TEMPORAL_CLOUD_API_KEY in the environment (a service account's key with the
# namespace admin role), never from a variable that would land in state or a tfvars file.
provider "temporalcloud" {}
