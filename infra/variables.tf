variable "subscription_id" {
  description = "Azure subscription that holds the environment."
  type        = string
  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.subscription_id))
    error_message = "subscription_id must be a subscription GUID."
  }
}

variable "environment" {
  description = "Environment name; part of every resource name."
  type        = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "name_prefix" {
  description = "Short prefix of every resource name (lower-case letters and digits, 2-8 characters)."
  type        = string
  default     = "sms"
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.name_prefix))
    error_message = "name_prefix must be 2-8 lower-case letters and digits, starting with a letter (storage-style names are built from it)."
  }
}

variable "location" {
  description = "Azure region."
  type        = string
  default     = "westeurope"
  validation {
    condition     = can(regex("^[a-z]+[a-z0-9]*$", var.location))
    error_message = "location must be an Azure region name such as westeurope (no spaces)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

# --- Network -------------------------------------------------------------------------------------

variable "vnet_address_space" {
  description = "Address space of the environment's virtual network (Container Apps needs a /27 or larger subnet of it; private endpoints another)."
  type        = string
  default     = "10.40.0.0/16"
  validation {
    condition     = can(cidrnetmask(var.vnet_address_space)) && tonumber(split("/", var.vnet_address_space)[1]) <= 22
    error_message = "vnet_address_space must be a CIDR block of /22 or larger."
  }
}

# --- Image ---------------------------------------------------------------------------------------

variable "image_tag" {
  description = "Tag of the sms-order-confirmation image in ACR: the git SHA the build workflow pushed."
  type        = string
  validation {
    condition     = can(regex("^[0-9a-f]{7,40}$", var.image_tag))
    error_message = "image_tag must be a git commit SHA (7-40 hex digits); mutable tags such as latest are refused so every revision names the code it runs."
  }
}

# --- SQL -----------------------------------------------------------------------------------------

variable "sql_admin_group" {
  description = "Entra ID group that administers the Azure SQL server (its members run the one-time CREATE USER statements of infra/README.md)."
  type = object({
    display_name = string
    object_id    = string
  })
  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.sql_admin_group.object_id))
    error_message = "sql_admin_group.object_id must be the group's object id (a GUID)."
  }
}

variable "sql_sku" {
  description = "Azure SQL Database SKU."
  type        = string
  default     = "S1"
  validation {
    condition     = can(regex("^(Basic|S[0-9]+|P[0-9]+|GP_S?_Gen5_[0-9]+|GP_Gen5_[0-9]+|BC_Gen5_[0-9]+|HS_Gen5_[0-9]+)$", var.sql_sku))
    error_message = "sql_sku must be an Azure SQL Database SKU name such as S1, P1 or GP_S_Gen5_2."
  }
}

variable "sql_public_network_access" {
  description = "Allow the SQL server's public endpoint (firewall rules still apply). Off: only the private endpoint in the VNet reaches it."
  type        = bool
  default     = false
}

# --- Service Bus ---------------------------------------------------------------------------------

variable "servicebus_sku" {
  description = "Service Bus namespace tier: Standard (topics, no private endpoint) or Premium (private endpoint, no public access)."
  type        = string
  default     = "Standard"
  validation {
    condition     = contains(["Standard", "Premium"], var.servicebus_sku)
    error_message = "servicebus_sku must be Standard or Premium (Basic has no topics)."
  }
}

variable "servicebus_publisher_principal_ids" {
  description = "Object ids of the identities that publish SendOrderConfirmationSms (the monolith): they get Azure Service Bus Data Sender on the topic."
  type        = list(string)
  default     = []
}

# --- Temporal ------------------------------------------------------------------------------------

variable "temporal_namespace_name" {
  description = "Temporal Cloud namespace name (without the account suffix)."
  type        = string
  default     = "sms-order-confirmation"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,37}[a-z0-9]$", var.temporal_namespace_name))
    error_message = "temporal_namespace_name must be 2-39 lower-case letters, digits and hyphens, starting with a letter (Temporal Cloud's rule)."
  }
}

variable "temporal_region" {
  description = "Temporal Cloud region, prefixed with its cloud (e.g. azure-westeurope, aws-eu-west-1)."
  type        = string
  default     = "azure-westeurope"
  validation {
    condition     = can(regex("^(aws|gcp|azure)-[a-z0-9-]+$", var.temporal_region))
    error_message = "temporal_region must be a Temporal Cloud region such as azure-westeurope or aws-eu-west-1."
  }
}

variable "temporal_retention_days" {
  description = "Days Temporal Cloud keeps closed workflows. SmsOrderClaims in SQL guards against a second send after that (README)."
  type        = number
  default     = 30
  validation {
    condition     = var.temporal_retention_days >= 1 && var.temporal_retention_days <= 90 && floor(var.temporal_retention_days) == var.temporal_retention_days
    error_message = "temporal_retention_days must be a whole number from 1 to 90 (Temporal Cloud's range)."
  }
}

variable "temporal_auth" {
  description = "How the roles authenticate to Temporal Cloud: mtls (client certificate and key in Key Vault) or api-key."
  type        = string
  default     = "mtls"
  validation {
    condition     = contains(["mtls", "api-key"], var.temporal_auth)
    error_message = "temporal_auth must be mtls or api-key."
  }
}

variable "temporal_client_ca_pem" {
  description = "PEM of the CA that issues the roles' client certificates (temporal_auth = mtls). Public: the namespace accepts any certificate it signed."
  type        = string
  default     = ""
  validation {
    condition     = var.temporal_client_ca_pem == "" || can(regex("-----BEGIN CERTIFICATE-----", var.temporal_client_ca_pem))
    error_message = "temporal_client_ca_pem must be a PEM certificate (-----BEGIN CERTIFICATE-----) or empty."
  }
}

variable "temporal_task_queue" {
  description = "The order task queue; the consent and send queues derive from it (temporal/contracts.ts)."
  type        = string
  default     = "sms-orders"
  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,200}$", var.temporal_task_queue))
    error_message = "temporal_task_queue must be 1-200 of A-Z a-z 0-9 . _ -."
  }
}

# --- Providers (SMS) -----------------------------------------------------------------------------

variable "sms_provider" {
  description = "Default SMS provider (SMS_PROVIDER)."
  type        = string
  default     = "twilio"
  validation {
    condition     = contains(["twilio", "plivo", "simulator"], var.sms_provider)
    error_message = "sms_provider must be twilio, plivo or simulator."
  }
}

variable "sms_failover_provider" {
  description = "Failover provider (SMS_FAILOVER_PROVIDER); empty for none."
  type        = string
  default     = ""
  validation {
    condition     = contains(["", "twilio", "plivo"], var.sms_failover_provider)
    error_message = "sms_failover_provider must be empty, twilio or plivo."
  }
}

variable "public_base_url" {
  description = "The public https URL providers call back and sign (PUBLIC_BASE_URL): a custom domain on the api app. Empty: the api app's own ingress FQDN."
  type        = string
  default     = ""
  validation {
    condition     = var.public_base_url == "" || can(regex("^https://[^/]+$", var.public_base_url))
    error_message = "public_base_url must be empty or https://host with no path or trailing slash."
  }
}

# --- Scale ---------------------------------------------------------------------------------------

variable "scale" {
  description = "Replica bounds per app. Minimums are at least 1: a worker scaled to zero stops the gauges the alerts read, and the api answers provider webhooks."
  type = map(object({
    min = number
    max = number
  }))
  default = {
    api            = { min = 1, max = 3 }
    worker-orders  = { min = 1, max = 10 }
    worker-consent = { min = 1, max = 3 }
    worker-send    = { min = 1, max = 2 }
    bridge         = { min = 1, max = 4 }
  }
  validation {
    condition     = alltrue([for k, v in var.scale : v.min >= 1 && v.max >= v.min && v.max <= 300])
    error_message = "Each scale entry needs 1 <= min <= max <= 300."
  }
  validation {
    condition     = length(setsubtract(["api", "worker-orders", "worker-consent", "worker-send", "bridge"], keys(var.scale))) == 0
    error_message = "scale must have api, worker-orders, worker-consent, worker-send and bridge."
  }
}

variable "worker_scale_signal" {
  description = "What scales worker-orders and worker-consent: temporal (KEDA's Temporal scaler on the task-queue backlog) or cpu."
  type        = string
  default     = "temporal"
  validation {
    condition     = contains(["temporal", "cpu"], var.worker_scale_signal)
    error_message = "worker_scale_signal must be temporal or cpu."
  }
}

# --- Alerts --------------------------------------------------------------------------------------

variable "alert_email_receivers" {
  description = "E-mail addresses of the on-call action group."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for e in var.alert_email_receivers : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_email_receivers must be e-mail addresses."
  }
}

variable "log_retention_days" {
  description = "Log Analytics retention."
  type        = number
  default     = 90
  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days must be from 30 to 730."
  }
}

# --- Key Vault -----------------------------------------------------------------------------------

variable "key_vault_allowed_ip_ranges" {
  description = "Public addresses (CIDR) allowed through the Key Vault firewall: where Terraform runs (a self-hosted runner's egress, an operator's address)."
  type        = list(string)
  default     = []
}

variable "secret_expiration_date" {
  description = "Expiry stamped on every Key Vault secret (RFC 3339); rotate before it (README, Secrets)."
  type        = string
  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", var.secret_expiration_date))
    error_message = "secret_expiration_date must look like 2027-06-30T00:00:00Z."
  }
}
