terraform {
  required_version = ">= 1.9.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.55"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
    temporalcloud = {
      source  = "temporalio/temporalcloud"
      version = "~> 1.0"
    }
  }

  # Partial configuration: the storage account is made once by hand (infra/README.md, step 1) and
  # passed with `terraform init -backend-config=backend.hcl`. State holds generated secrets (the
  # codec key, the API token): the account is private, versioned and reached through Entra ID only.
  backend "azurerm" {
    use_azuread_auth = true
  }
}
